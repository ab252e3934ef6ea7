"""Per-record resource budget of the fuzz tests: CPU time and peak Python allocation.

Time is this thread's CPU time, so that a busy shared CI box does not fail a record that did
little work, with the garbage collector held off during the call (a full collection of the
test process's heap is not the record's cost); an over-budget record is measured once more,
without tracemalloc's overhead, and fails only when it is over budget again. The budget catches
runaway work (a quadratic loop, a huge allocation), not speed: benchmarks measure that. Memory
is tracemalloc's peak above what was allocated before the call (Python allocations, which is
where a decoded value or a runaway list would live).
"""

from __future__ import annotations

import contextlib
import gc
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

MAX_RECORD_S: Final = 0.250
MAX_RECORD_BYTES: Final = 10 * 1024 * 1024


@dataclass(frozen=True)
class Cost:
    cpu_s: float
    peak_bytes: int


@contextlib.contextmanager
def traced() -> Iterator[None]:
    """tracemalloc on for the block (restored as it was found)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        yield
    finally:
        if not was_tracing:
            tracemalloc.stop()


def _run(call: Callable[[], object]) -> BaseException | None:
    collecting = gc.isenabled()
    gc.disable()
    try:
        call()
    except BaseException as exc:
        return exc
    finally:
        if collecting:
            gc.enable()
    return None


def measure(call: Callable[[], object]) -> tuple[Cost, BaseException | None]:
    """Run `call` once under tracemalloc (which must be on); what it raised is returned."""
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    started = time.thread_time()
    raised = _run(call)
    cpu = time.thread_time() - started
    peak = tracemalloc.get_traced_memory()[1] - before
    return Cost(cpu, max(0, peak)), raised


def within_budget(call: Callable[[], object], label: str) -> BaseException | None:
    """Run `call`, assert the budget, and return what it raised (None when it returned)."""
    cost, raised = measure(call)
    assert cost.peak_bytes <= MAX_RECORD_BYTES, (
        f"{label}: allocated {cost.peak_bytes / 1e6:.1f} MB (budget {MAX_RECORD_BYTES / 1e6:.0f})"
    )
    if cost.cpu_s > MAX_RECORD_S:
        tracemalloc.stop()
        try:
            started = time.thread_time()
            _run(call)
            cpu = time.thread_time() - started
        finally:
            tracemalloc.start()
        budget_ms = MAX_RECORD_S * 1000
        assert cpu <= MAX_RECORD_S, (
            f"{label}: took {cpu * 1000:.0f} ms of CPU (budget {budget_ms:.0f} ms)"
        )
    return raised
