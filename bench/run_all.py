"""`make bench`: every figure of docs/DESIGN.md §9 in one run, as a table.

    .venv/bin/python bench/run_all.py [--quick] [--only NAME ...]

Starts one local stack (Kafka broker, AEP emulator in its own process, rate limits off,
validation on), provisions AEP with `profile-sync init --json`, then measures each figure
(bench/figures/, one module each) and prints, per figure: the measured value, the target,
met or missed, and the machine's core count. `--quick` shortens every phase (a smoke run; its
figures are not the ones to report). Figures that need the consumer's maximum rate measure it
first. A benchmark prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aep_emulator.options import EmulatorOptions
from bench.figures import (
    cost,
    efficiency,
    headroom,
    latency,
    outage,
    records_per_request,
    scale_out,
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
    "outage": (outage.NAME, outage.measure),
    "scale-out": (scale_out.NAME, scale_out.measure),
    "headroom": (headroom.NAME, headroom.measure),
    "state": (state.NAME, state.measure),
    "tracing": (tracing_cost.NAME, tracing_cost.measure),
}


def note(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def table(figures: list[Figure], cores: int) -> str:
    header = ("figure", "measured", "target", "result", "cores")
    rows = [header] + [
        (
            f.name,
            f.measured,
            f.target,
            "n/a" if f.met is None else ("met" if f.met else "MISSED"),
            str(cores),
        )
        for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short phases: a smoke run")
    parser.add_argument(
        "--only", action="append", choices=sorted(FIGURES), help="measure this figure (repeatable)"
    )
    args = parser.parse_args()
    chosen = args.only or list(FIGURES)
    cores = os.cpu_count() or 1
    began = time.monotonic()
    load_before = os.getloadavg()[0]  # other work on the machine skews every rate
    emulator = EmulatorOptions(max_requests_per_s=0, max_messages_per_s=0, validation_processes=1)
    results: list[Figure] = []
    with LocalStack(partitions=1, emulator=emulator) as stack:
        note(f"stack up: broker {stack.bootstrap}, emulator {stack.emulator_url}, in {stack.work}")
        ctx = Context(stack, stack.init(), quick=args.quick)
        for key in FIGURES:
            if key not in chosen:
                continue
            name, measure = FIGURES[key]
            note(f"measuring {name}{' (quick)' if args.quick else ''}")
            started = time.monotonic()
            try:
                figure = measure(ctx)
            except Exception as exc:
                note(f"{name} failed:\n{traceback.format_exc()}")
                figure = Figure(name, f"error: {type(exc).__name__}", "", None, [str(exc)[:300]])
            note(f"{name}: {figure.measured} ({time.monotonic() - started:.0f} s)")
            results.append(figure)
    mode = "QUICK smoke run, not the reported figures" if args.quick else "full run"
    print(
        f"make bench: {mode}; {cores} cores; {time.monotonic() - began:.0f} s in all; "
        f"load average before {load_before:.1f}, after {os.getloadavg()[0]:.1f}"
    )
    print(table(results, cores))
    for figure in results:
        for line in figure.details:
            print(f"- {figure.name}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
