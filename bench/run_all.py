"""`make bench`: every figure of docs/DESIGN.md §9 in one run, as a table.

    .venv/bin/python bench/run_all.py [--quick] [--only NAME ...] [--baseline REV]

Starts one local stack (Kafka broker, AEP emulator in its own process, rate limits off,
validation on), provisions AEP with `profile-sync init --json`, then measures each figure
(bench/figures/, one module each) and prints, per figure: the measured value, the target,
met or missed, and the machine's core count. `--quick` shortens every phase (a smoke run; its
figures are not the ones to report). Figures that need the consumer's maximum rate measure it
first. With `--baseline REV` every figure that runs the consumer is measured a second time with
REV's consumer (a `git worktree` of REV, this checkout's interpreter and dependencies), right
before or after this checkout's (alternating), and printed beside it. A benchmark prints
figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aep_emulator.options import EmulatorOptions
from bench.baseline import baseline_worktree, describe
from bench.figures import (
    cost,
    efficiency,
    headroom,
    latency,
    memory,
    metrics_cost,
    outage,
    records_per_request,
    scale_out,
    startup,
    state,
    tracing_cost,
)
from bench.figures.common import Context, Figure
from devenv.stack import LocalStack

FIGURES: dict[str, tuple[str, Callable[[Context], Figure]]] = {
    "efficiency": (efficiency.NAME, efficiency.measure),
    "cost": (cost.NAME, cost.measure),
    "records-per-request": (records_per_request.NAME, records_per_request.measure),
    "latency": (latency.NAME, latency.measure),
    "startup": (startup.NAME, startup.measure),
    "memory": (memory.NAME, memory.measure),
    "outage": (outage.NAME, outage.measure),
    "scale-out": (scale_out.NAME, scale_out.measure),
    "headroom": (headroom.NAME, headroom.measure),
    "state": (state.NAME, state.measure),
    "tracing": (tracing_cost.NAME, tracing_cost.measure),
    "metrics": (metrics_cost.NAME, metrics_cost.measure),
}

# Figures of code other than the consumer (the emulator, the state store), and the tracing and
# metrics figures (comparisons inside this checkout, of settings an older commit may not have):
# no baseline run.
NO_BASELINE = frozenset({"headroom", "state", "tracing", "metrics"})


def note(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def table(figures: list[Figure], cores: int, baseline: str | None) -> str:
    header = ["figure", "measured", "target", "result", "cores"]
    if baseline:
        header.insert(2, f"baseline {baseline}")
    rows = [header]
    for f in figures:
        row = [
            f.name,
            f.measured,
            f.target,
            "n/a" if f.met is None else ("met" if f.met else "MISSED"),
            str(cores),
        ]
        if baseline:
            row.insert(2, f.baseline or "-")
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def run_figure(key: str, ctx: Context, label: str) -> Figure:
    name, measure = FIGURES[key]
    note(f"measuring {name}, {label}{' (quick)' if ctx.quick else ''}")
    started = time.monotonic()
    try:
        figure = measure(ctx)
    except Exception as exc:
        note(f"{name} failed:\n{traceback.format_exc()}")
        figure = Figure(name, f"error: {type(exc).__name__}", "", None, [str(exc)[:300]])
    note(f"{name}, {label}: {figure.measured} ({time.monotonic() - started:.0f} s)")
    return figure


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short phases: a smoke run")
    parser.add_argument(
        "--only", action="append", choices=sorted(FIGURES), help="measure this figure (repeatable)"
    )
    parser.add_argument(
        "--baseline", metavar="REV", help="also measure REV's consumer, printed beside"
    )
    args = parser.parse_args()
    chosen = args.only or list(FIGURES)
    cores = os.cpu_count() or 1
    began = time.monotonic()
    load_before = os.getloadavg()[0]  # other work on the machine skews every rate
    emulator = EmulatorOptions(max_requests_per_s=0, max_messages_per_s=0, validation_processes=1)
    results: list[Figure] = []
    label = describe(args.baseline) if args.baseline else None
    with ExitStack() as resources, LocalStack(partitions=1, emulator=emulator) as stack:
        note(f"stack up: broker {stack.bootstrap}, emulator {stack.emulator_url}, in {stack.work}")
        ctx = Context(stack, stack.init(), quick=args.quick)
        base = None
        if args.baseline:
            base = ctx.for_code(resources.enter_context(baseline_worktree(args.baseline)))
        for n, key in enumerate(k for k in FIGURES if k in chosen):
            if base is None or key in NO_BASELINE:
                results.append(run_figure(key, ctx, "this checkout"))
                continue
            # Alternating order: whatever else loads the machine meanwhile hits both alike.
            if n % 2 == 0:
                figure = run_figure(key, ctx, "this checkout")
                before = run_figure(key, base, f"baseline {label}")
            else:
                before = run_figure(key, base, f"baseline {label}")
                figure = run_figure(key, ctx, "this checkout")
            figure.baseline = before.measured
            figure.details += [f"baseline {label}: {line}" for line in before.details]
            results.append(figure)
    mode = "QUICK smoke run, not the reported figures" if args.quick else "full run"
    print(
        f"make bench: {mode}; {cores} cores; {time.monotonic() - began:.0f} s in all; "
        f"load average before {load_before:.1f}, after {os.getloadavg()[0]:.1f}"
        + (f"; baseline {label} ({args.baseline})" if label else "")
    )
    print(table(results, cores, label))
    for figure in results:
        for line in figure.details:
            print(f"- {figure.name}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
