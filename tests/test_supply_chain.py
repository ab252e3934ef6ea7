"""The hash-pinned lock of the runtime install (requirements.lock) and its audit.

- the lock holds exactly the runtime dependencies of pyproject.toml and their dependencies, at the
  versions constraints.txt pins (the versions every test runs against), each with hashes;
- it is what `make lock` generates today (CI regenerates and compares);
- `pip install --require-hashes -r requirements.lock` into a clean virtualenv reproduces it;
- `make audit` fails on a known vulnerability only, and says so when it cannot reach a database.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
import venv
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devenv import audit_lock

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "requirements.lock"
# Emulator and development packages: never part of the runtime image.
NOT_RUNTIME = {
    "starlette",
    "uvicorn",
    "jsonpatch",
    "pytest",
    "hypothesis",
    "mypy",
    "uv",
    "cryptography",
}


@dataclass(frozen=True)
class Locked:
    name: str
    version: str
    marker: Marker | None
    hashes: tuple[str, ...]

    def applies_here(self) -> bool:
        return self.marker is None or self.marker.evaluate()


ENTRY = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+?)(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$"
)


def read_lock(path: Path = LOCK) -> dict[str, Locked]:
    entries: dict[str, Locked] = {}
    current: tuple[str, str, Marker | None] | None = None
    hashes: list[str] = []

    def close() -> None:
        if current is not None:
            entries[current[0]] = Locked(*current, tuple(hashes))

    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash="):
            hashes.append(line.removeprefix("--hash=").rstrip(" \\"))
            continue
        match = ENTRY.match(line)
        assert match, f"unexpected line in {path.name}: {raw!r}"
        close()
        marker = match["marker"]
        current = (
            canonicalize_name(match["name"]),
            match["version"],
            Marker(marker) if marker else None,
        )
        hashes = []
    close()
    return entries


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project["dependencies"]]


def installed_closure(roots: list[Requirement]) -> dict[str, str]:
    """The installed distributions the runtime requirements pull in here, {name: version}."""
    found: dict[str, str] = {}
    pending = [r for r in roots if r.marker is None or r.marker.evaluate()]
    while pending:
        req = pending.pop()
        name = canonicalize_name(req.name)
        if name in found:
            continue
        dist = metadata.distribution(name)
        found[name] = dist.version
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is None or sub.marker.evaluate({"extra": ""}):
                pending.append(sub)
    return found


def constraints() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        name, sep, version = line.strip().partition("==")
        if sep:
            pins[canonicalize_name(name)] = version
    return pins


def test_every_locked_package_is_pinned_with_sha256_hashes() -> None:
    locked = read_lock()
    assert locked, "requirements.lock is empty"
    for entry in locked.values():
        assert entry.hashes, f"{entry.name} has no hash"
        assert all(h.startswith("sha256:") and len(h) == 71 for h in entry.hashes), entry.name


def test_lock_holds_exactly_the_runtime_dependencies_at_the_constrained_versions() -> None:
    locked = read_lock()
    for req in runtime_requirements():
        entry = locked.get(canonicalize_name(req.name))
        assert entry is not None, f"{req.name} (pyproject.toml) is not in requirements.lock"
        assert req.specifier.contains(entry.version, prereleases=True), (req, entry.version)
    here = {name: e.version for name, e in locked.items() if e.applies_here()}
    # the closure over what is installed here: exactly the lock, nothing more, nothing less
    assert installed_closure(runtime_requirements()) == here
    pins = constraints()
    for name, entry in locked.items():
        assert pins.get(name) == entry.version, (
            f"{name}: lock {entry.version}, constraints {pins.get(name)}"
        )


def test_lock_leaves_out_the_emulator_and_development_packages() -> None:
    locked = set(read_lock())
    assert not NOT_RUNTIME & locked


def test_lock_is_what_make_lock_generates() -> None:
    """Regenerate with the documented command and compare (needs the package index)."""
    done = subprocess.run(
        ["make", "--no-print-directory", "-s", "lock-check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (
        "requirements.lock is stale: run `make lock` and commit it\n" + done.stdout[-3000:]
    )


def _pip_list(python: Path) -> dict[str, str]:
    done = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        canonicalize_name(item["name"]): item["version"]
        for item in json.loads(done.stdout)
        if canonicalize_name(item["name"]) not in {"pip", "setuptools", "wheel"}
    }


@pytest.mark.slow
def test_hash_locked_install_into_a_clean_virtualenv_reproduces_the_environment(
    tmp_path: Path,
) -> None:
    """What the image does. pip's download cache (~/.cache/pip) keeps this quick when warm."""
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    python = target / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--require-hashes", "-r", str(LOCK)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    installed = _pip_list(python)
    locked = {name: e.version for name, e in read_lock().items() if e.applies_here()}
    assert installed == locked
    # the same versions the test suite runs against
    assert installed == installed_closure(runtime_requirements())
    # and they are enough to run the service: the CLI imports and answers
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cli = subprocess.run(
        [
            str(python),
            "-c",
            "import sys; from consumer.cli import main; sys.exit(main())",
            "--help",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert "run" in cli.stdout


# ------------------------------------------------------------------------------------ audit


def _report(*deps: dict[str, object]) -> dict[str, object]:
    return {"dependencies": list(deps), "fixes": []}


def test_audit_lists_a_known_vulnerability() -> None:
    outcome = audit_lock.summarize(
        "pypi",
        _report(
            {"name": "httpx", "version": "0.28.1", "vulns": []},
            {
                "name": "orjson",
                "version": "3.13.0",
                "vulns": [{"id": "PYSEC-0000-1", "fix_versions": ["3.13.1"], "aliases": []}],
            },
        ),
    )
    assert outcome.reachable
    assert outcome.audited == ["httpx 0.28.1", "orjson 3.13.0"]
    assert outcome.vulnerable == ["orjson 3.13.0: PYSEC-0000-1 (fixed in 3.13.1)"]


def test_audit_treats_every_package_skipped_as_an_unreachable_database() -> None:
    reason = "Dependency not found on PyPI and could not be audited: httpx (0.28.1)"
    outcome = audit_lock.summarize("pypi", _report({"name": "httpx", "skip_reason": reason}))
    assert not outcome.reachable
    assert reason in outcome.detail


def test_audit_says_so_and_passes_when_no_database_answers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a proxy on a closed port: neither PyPI nor OSV can answer
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert audit_lock.main(["--lock", str(LOCK)]) == 0
    err = capsys.readouterr().err
    assert "could not reach a vulnerability database" in err
    assert "NOT audited" in err


def test_audit_of_a_missing_lock_fails(tmp_path: Path) -> None:
    assert audit_lock.main(["--lock", str(tmp_path / "nope.lock")]) == 1


def test_audit_fails_when_pip_audit_cannot_read_the_lock(tmp_path: Path) -> None:
    broken = tmp_path / "broken.lock"
    broken.write_text("this is not a requirement ==== \n")
    assert audit_lock.main(["--lock", str(broken)]) == 1
