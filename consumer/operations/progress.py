"""Progress of a long read or copy: a rich progress bar when stderr is a terminal; otherwise,
for the commands that ask for them, a plain line every few seconds and one at the end."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

PLAIN_INTERVAL_S: Final = 5.0


class Advance(Protocol):
    def __call__(self, step: int) -> None: ...


@contextmanager
def progress(
    label: str,
    total: int,
    *,
    stream: TextIO | None = None,
    plain_lines: bool = True,
    interval_s: float = PLAIN_INTERVAL_S,
) -> Iterator[Advance]:
    """Yields `advance(n)`; `total` is the number of records (offsets) to go through."""
    err = stream or sys.stderr
    if err.isatty():
        console = Console(file=err)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task(label, total=total)
            yield lambda step: bar.advance(task, step)
        return
    if not plain_lines:
        yield lambda step: None
        return
    done = 0
    last = time.monotonic()

    def advance(step: int) -> None:
        nonlocal done, last
        done += step
        now = time.monotonic()
        if now - last >= interval_s:
            last = now
            print(f"{label}: {done}/{total}{_share(done, total)}", file=err, flush=True)

    yield advance
    print(f"{label}: {done}/{total}{_share(done, total)} done", file=err, flush=True)


def _share(done: int, total: int) -> str:
    return f" ({100 * done // total}%)" if total else ""
