"""Pipeline efficiency: end-to-end rate >= 85 % of the offline rate of the same records
(docs/DESIGN.md §9).

Offline: decode + map + validate + serialise in one loop (bench/pipeline_bench.offline_rate),
in the benchmark's process while the stack is idle, as `run` does them (the native core first).
End to end: `profile-sync run` against the broker and the emulator, rate limits off
(bench/figures/saturation.py).
"""

from __future__ import annotations

import os

from bench.figures.common import Context, Figure, cores

NAME = "pipeline efficiency"
TARGET = 0.85


def measure(ctx: Context) -> Figure:
    s = ctx.saturation()
    share = s.end_to_end_rate / s.offline_rate
    details = [
        f"end to end: {s.delivered:,} records delivered of {s.produced:,} produced, "
        f"{s.lost} lost, run exit {s.exit_code}; rate over the 10-90 % window "
        f"({s.window_s:.1f} s); offline loop over {s.offline_records:,} of the same records",
    ]
    details.append(
        f"cores used in the window (of {cores()}): consumer {s.consumer_busy:.2f}, emulator "
        f"{s.emulator_busy:.2f} (it parses and validates every record too), broker "
        f"{s.broker_busy:.2f}; load average {os.getloadavg()[0]:.1f}"
    )
    if s.offline_cpu_per_record_us is not None:
        # CPU per record holds on a busy machine, where wall-clock rates do not.
        details.append(
            f"CPU per record: offline loop {s.offline_cpu_per_record_us:.0f} us, consumer "
            f"{s.cpu_per_record_us:.0f} us (share doing the four steps: "
            f"{s.offline_cpu_per_record_us / s.cpu_per_record_us:.0%}); the pipeline's own "
            f"work (Kafka, state, batching, HTTP, accounting): "
            f"{s.cpu_per_record_us - s.offline_cpu_per_record_us:.0f} us per record"
        )
    return Figure(
        NAME,
        f"{share:.0%} ({s.end_to_end_rate:,.0f} of {s.offline_rate:,.0f} rec/s)",
        f">= {TARGET:.0%}",
        share >= TARGET,
        details,
    )
