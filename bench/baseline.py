"""A baseline commit's code beside this checkout: `git worktree add --detach` in a temporary
directory, removed afterwards. The benchmarks run its consumer with this checkout's interpreter
and dependencies (`Context.for_code`), so both figures come from the same run and machine."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def describe(rev: str) -> str:
    """`abc1234` for a revision (what the tables print)."""
    return subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@contextmanager
def baseline_worktree(rev: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as parent:
        path = Path(parent) / "code"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(path), rev],
            check=True,
        )
        try:
            yield path
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False
            )
