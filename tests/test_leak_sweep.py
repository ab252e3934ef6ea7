"""The leak sweep (tests/support/leak_sweep.py) can fail: a session whose output shows a
registered secret exits 1 naming the secret's label, and never prints the secret itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.leak_sweep import register_secret

REPO = Path(__file__).resolve().parent.parent

INNER = """
import logging
import subprocess
import sys

from tests.support.leak_sweep import record_output, register_secret

SECRET = register_secret("inner-" + "secret-0f9e", "the inner test secret")


def test_quiet():
    print("nothing to see")


def test_{kind}():
    if "{kind}" == "prints":
        print("connecting with", SECRET)
    elif "{kind}" == "logs":
        logging.getLogger("x").warning("password=%s", SECRET)
    elif "{kind}" == "subprocess":
        done = subprocess.run(
            [sys.executable, "-c", "print('inner-' + 'secret-0f9e')"],
            capture_output=True, text=True, check=True,
        )
        record_output("child", done.stdout, done.stderr)
"""


def _inner_session(tmp_path: Path, kind: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / f"test_inner_{kind}.py").write_text(INNER.replace("{kind}", kind))
    log = tmp_path / "suite.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PROFILE_SYNC_TEST_LOG": str(log),
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.support.leak_sweep",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("kind", ["prints", "logs", "subprocess"])
def test_a_secret_in_the_output_fails_the_session(tmp_path: Path, kind: str) -> None:
    done = _inner_session(tmp_path, kind)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]
    assert "2 passed" in out  # the tests themselves pass: the sweep fails the session
    assert "leak sweep: the inner test secret appeared 1 time(s) in" in out
    secret = "inner-" + "secret-0f9e"
    assert secret not in out
    assert secret in (tmp_path / "suite.log").read_text()  # the log is what was swept


def test_a_clean_session_passes_and_reports_what_it_swept(tmp_path: Path) -> None:
    done = _inner_session(tmp_path, "quiet_too")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "leak sweep: 1 test secrets" in out
    assert "0 occurrence(s)" in out


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="too short"):
        register_secret("abc", "short")
