"""`pip install .` into a fresh virtualenv: the runtime carries no emulator web stack.

pip resolves the install for real (`--dry-run --report`, from the package index and its cache,
the project's constraints applied) and lists every distribution it would install; the
`[emulator]` extra is resolved the same way as a control, so the check sees the web stack when
it is asked for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB_STACK = {"starlette", "uvicorn", "jsonpatch"}


def _resolved(venv: Path, target: str, report: Path) -> set[str]:
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--dry-run",
            "--ignore-installed",
            "--report",
            str(report),
            "-c",
            str(ROOT / "constraints.txt"),
            target,
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    installs = json.loads(report.read_text(encoding="utf-8"))["install"]
    return {str(item["metadata"]["name"]).lower().replace("_", "-") for item in installs}


@pytest.mark.slow
def test_runtime_install_has_no_emulator_web_stack(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    runtime = _resolved(venv, str(ROOT), tmp_path / "runtime.json")
    assert {"commerce-profile-sync", "confluent-kafka", "httpx", "pydantic-settings"} <= runtime
    assert not runtime & WEB_STACK, sorted(runtime & WEB_STACK)
    with_emulator = _resolved(venv, f"{ROOT}[emulator]", tmp_path / "emulator.json")
    assert with_emulator & WEB_STACK == WEB_STACK
