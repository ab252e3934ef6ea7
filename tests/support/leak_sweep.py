"""Leak sweep: the test secrets appear zero times in what the suite logged.

A pytest plugin (loaded by tests/conftest.py). Every test's captured stdout, stderr and log
records, its failure report, the subprocess outputs tests hand to `record_output`, and the log
files registered with `watch_file` (the brokers' logs) are appended to one file, the suite's log
(`PROFILE_SYNC_TEST_LOG`, default `.devenv/test-logs/suite.log`), and searched for every secret
registered with `register_secret`. A secret found fails the session (exit 1) with the label of
the secret and where it was seen: never the secret itself.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Final

import pytest

LOG_VARIABLE: Final = "PROFILE_SYNC_TEST_LOG"
DEFAULT_LOG: Final = Path(__file__).resolve().parents[2] / ".devenv" / "test-logs" / "suite.log"
MIN_SECRET_LENGTH: Final = 8  # shorter strings would match by chance

_secrets: dict[str, str] = {}  # value -> label
_watched: list[tuple[str, Path]] = []
_found: Counter[tuple[str, str]] = Counter()  # (label, where) -> occurrences
_state: dict[str, object] = {"bytes": 0}


def register_secret(value: str, label: str) -> str:
    """Sweep for `value`; returns it, so that a test constant can be declared and registered
    in one line."""
    if len(value) < MIN_SECRET_LENGTH:
        raise ValueError(f"secret {label!r} is too short to sweep for ({len(value)} characters)")
    _secrets[value] = label
    return value


def watch_file(where: str, path: Path) -> None:
    """A log file to sweep at the end of the session (read then, wherever it got to)."""
    _watched.append((where, path))


def _log_path() -> Path:
    configured = os.environ.get(LOG_VARIABLE, "").strip()
    return Path(configured) if configured else DEFAULT_LOG


def _sweep(where: str, text: str) -> None:
    if not text:
        return
    path = _log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", errors="replace") as log:
        log.write(f"===== {where}\n{text}\n")
    _state["bytes"] = int(str(_state["bytes"])) + len(text)
    for secret, label in _secrets.items():
        count = text.count(secret)
        if count:
            _found[(label, where)] += count


def record_output(where: str, *texts: str | bytes | None) -> None:
    """Output a test captured itself (a subprocess's stdout and stderr)."""
    for text in texts:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if text:
            _sweep(where, text)


def pytest_sessionstart(session: pytest.Session) -> None:
    path = _log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")  # one session, one log
    _found.clear()
    _state["bytes"] = 0


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    parts = [content for _name, content in report.sections]
    if report.longrepr is not None:
        parts.append(str(report.longrepr))
    _sweep(f"{report.nodeid} ({report.when})", "\n".join(parts))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for where, path in _watched:
        try:
            _sweep(where, path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    if _found and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    leaks = sorted(_found.items())
    terminalreporter.section("leak sweep", red=bool(leaks), green=not leaks)
    for (label, where), count in leaks:
        terminalreporter.write_line(
            f"leak sweep: {label} appeared {count} time(s) in {where}", red=True
        )
    terminalreporter.write_line(
        f"leak sweep: {len(_secrets)} test secrets, {int(str(_state['bytes']))} characters of "
        f"test output and logs in {_log_path()}, {sum(_found.values())} occurrence(s)"
    )
