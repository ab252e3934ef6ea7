"""State restore (docs/DESIGN.md §9, §11): changelog records restored per second into an empty
state directory, and the store's RSS while 1,000,000 distinct customers pass through it (flat:
memory does not grow with customers). Measured by bench/state_bench.py; reported, no target."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.figures.common import Context, Figure
from bench.state_bench import measure as measure_state
from bench.state_bench import report

NAME = "state restore"


def measure(ctx: Context) -> Figure:
    customers = 100_000 if ctx.quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="state-", dir=ctx.stack.work) as work:
        memory, restore = measure_state(Path(work), ctx.stack.bootstrap, customers)
    details = report(memory, restore)
    return Figure(NAME, f"{restore.per_s:,.0f} records/s", "reported", None, details)
