"""Latency at a steady 500 events/s and records per request at saturation, on the real broker
and the AEP emulator; optionally against a baseline commit in the same run.

    python bench/latency_bench.py [--rate 500] [--backlog 40000] [--rounds 1] [--baseline REV]

One local stack (Kafka broker, emulator in its own process: validation on, rate limits off).
Latency (bench/figures/latency.py): a paced producer writes `--rate` events/s; Kafka CreateTime
-> the emulator's `receivedTimeMs` per record, over 40 s after 10 s warm-up: p50, p99, max.
Records per request at saturation (bench/figures/saturation.py): a backlog of `--backlog`
events, one consumer until idle, emulator accepted messages / batch requests.
With `--baseline REV` the same measurements run with REV's consumer (a `git worktree`), round by
round in alternating order, so load on the machine hits both alike; medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aep_emulator.options import EmulatorOptions
from bench.baseline import baseline_worktree, describe
from bench.figures import latency
from bench.figures.common import Context
from bench.figures.saturation import measure_saturation
from devenv.stack import LocalStack

RECORDS_PER_REQUEST_TARGET = 400.0


def note(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=latency.RATE, help="events/s (500)")
    parser.add_argument("--backlog", type=int, default=40_000, help="saturation backlog")
    parser.add_argument("--rounds", type=int, default=1, help="measurements per variant")
    parser.add_argument("--baseline", metavar="REV", help="also measure this commit's consumer")
    parser.add_argument("--quick", action="store_true", help="3 s warm-up + 10 s window")
    parser.add_argument("--no-saturation", action="store_true", help="latency only")
    parser.add_argument(
        "--dump", type=Path, metavar="DIR", help="write each round's latencies there (CSV)"
    )
    args = parser.parse_args()

    emulator = EmulatorOptions(max_requests_per_s=0, max_messages_per_s=0, validation_processes=1)
    with ExitStack() as stack_of, LocalStack(partitions=1, emulator=emulator) as stack:
        note(f"stack up: broker {stack.bootstrap}, emulator {stack.emulator_url}")
        here = Context(stack, stack.init(), quick=args.quick)
        variants: list[tuple[str, Context]] = [("this checkout", here)]
        if args.baseline:
            code = stack_of.enter_context(baseline_worktree(args.baseline))
            variants.append((f"baseline {describe(args.baseline)}", here.for_code(code)))
        lat: dict[str, list[latency.Latency]] = {name: [] for name, _ in variants}
        per_request: dict[str, list[float]] = {name: [] for name, _ in variants}
        for round_no in range(args.rounds):
            order = variants if round_no % 2 == 0 else variants[::-1]
            for name, ctx in order:
                note(f"round {round_no + 1}: latency, {name}")
                dump = None
                if args.dump is not None:
                    args.dump.mkdir(parents=True, exist_ok=True)
                    label = "this" if ctx.code is None else "baseline"
                    dump = args.dump / f"latency-{label}-{round_no + 1}.csv"
                result, details = latency.measure_latency(ctx, args.rate, dump)
                for line in details:
                    note(f"  {line}")
                if result is not None:
                    lat[name].append(result)
                if not args.no_saturation:
                    note(f"round {round_no + 1}: saturation ({args.backlog:,} events), {name}")
                    s = measure_saturation(ctx, args.backlog)
                    per_request[name].append(s.accepted / max(s.batch_requests, 1))
                    note(
                        f"  {s.accepted:,} accepted / {s.batch_requests:,} requests, "
                        f"{s.end_to_end_rate:,.0f} records/s, {s.cpu_per_record_us:.0f} us CPU "
                        f"per record, lost {s.lost}, exit {s.exit_code}"
                    )

    print(f"latency bench: {args.rate:,.0f} events/s paced, {args.rounds} round(s), medians")
    target = latency.TARGET
    for name, _ in variants:
        results = lat[name]
        if not results:
            print(f"{name}: latency not measured (no records matched)")
            continue
        p50 = statistics.median(r.p50_ms for r in results)
        p99 = statistics.median(r.p99_ms for r in results)
        worst = max(r.max_ms for r in results)
        gathered = statistics.median(r.records_per_request for r in results)
        met = p50 <= latency.TARGET_P50_MS and p99 <= latency.TARGET_P99_MS
        print(
            f"{name}: latency p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {worst:.0f} ms "
            f"({target}: {verdict(met)}); {gathered:.1f} records per request at this rate"
        )
        if per_request[name]:
            rpr = statistics.median(per_request[name])
            print(
                f"{name}: records per request at saturation {rpr:.0f} "
                f"(>= {RECORDS_PER_REQUEST_TARGET:.0f}: "
                f"{verdict(rpr >= RECORDS_PER_REQUEST_TARGET)})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
