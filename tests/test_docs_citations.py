"""Code comments cite `docs/DESIGN.md §N` and `docs/AEP.md §N`: every cited section exists, and
nothing cites a document outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CITED_FROM = ("consumer", "mappers", "schemas", "aep_emulator", "devenv", "bench")
CITATION = re.compile(r"docs/(AEP|DESIGN)\.md §(\d+(?:\.\d+)?)")
HEADING = re.compile(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", re.MULTILINE)


def _sources() -> list[Path]:
    return [p for d in CITED_FROM for p in sorted((ROOT / d).rglob("*.py"))]


def _sections(document: str) -> set[str]:
    return set(HEADING.findall((ROOT / "docs" / f"{document}.md").read_text(encoding="utf-8")))


def test_every_cited_section_exists() -> None:
    sections = {name: _sections(name) for name in ("AEP", "DESIGN")}
    missing = sorted(
        f"{path.relative_to(ROOT)}: docs/{name}.md §{number}"
        for path in _sources()
        for name, number in CITATION.findall(path.read_text(encoding="utf-8"))
        if number not in sections[name]
    )
    assert sections["AEP"]
    assert sections["DESIGN"]
    assert not missing, missing


@pytest.mark.parametrize(
    "package",
    ["consumer", "mappers", "schemas", "aep_emulator", "devenv", "bench", "docs", "tests"],
)
def test_no_citation_points_outside_the_repository(package: str) -> None:
    outside = re.compile(r"design section|aep-api\.md|\.\./shared|/work/shared", re.IGNORECASE)
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / package).rglob("*"))
        if path.suffix in {".py", ".md"} and path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert not found, found
