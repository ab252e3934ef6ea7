"""Cost per record: consumer CPU (user + system, all threads) per delivered record <= 45 us.

CPU of the `profile-sync run` child (psutil, sampled) over the saturated run's 10-90 % window,
divided by the source records delivered in it. Two saturated runs of the same records: the one
the efficiency figure shares, and one more made here (a full run only), so that the figure is
their median and how far they lie apart is printed: on the development machine the same code's
CPU time moves by 10-25 % from run to run. With a baseline, run_all's alternating order makes
the four runs this, baseline, baseline, this. The whole-run figure of the first run (wait4
rusage of the child, start-up and idle wait included) is printed beside it, and the window's
CPU by thread kind (the poll thread, librdkafka's, RocksDB's, gRPC's, the other Python threads),
medians of the runs.
"""

from __future__ import annotations

import statistics

from bench.figures.common import THREAD_KINDS, Context, Figure
from bench.figures.paired_cost import cpu_per_record_us
from bench.figures.saturation import SEED

NAME = "cost per record"
TARGET_US = 45.0


def measure(ctx: Context) -> Figure:
    s = ctx.saturation()
    runs = [s.cpu_per_record_us]
    by_thread = [s.thread_us]
    if not ctx.quick:
        again = cpu_per_record_us(ctx, s.produced, {}, "cost-again", seed=SEED)
        runs.append(again.us)
        by_thread.append(again.by_thread)
    measured = statistics.median(runs)
    apart = (
        f"they differ by {(max(runs) - min(runs)) / measured:.0%}"
        if len(runs) > 1
        else "one run in a quick bench"
    )
    threads = {kind: statistics.median(t[kind] for t in by_thread) for kind in THREAD_KINDS}
    return Figure(
        NAME,
        f"{measured:.0f} us",
        f"<= {TARGET_US:.0f} us",
        measured <= TARGET_US,
        [
            f"saturated runs of the same {s.produced:,} records: "
            + ", ".join(f"{us:.0f}" for us in runs)
            + f" us per delivered record (median above; {apart})",
            f"whole first run incl. start-up and idle wait: {s.whole_run_cpu_per_record_us:.0f} "
            f"us per delivered record ({s.delivered:,} delivered)",
            "by thread, same windows (medians): "
            + ", ".join(f"{kind} {us:.1f} us" for kind, us in threads.items())
            + " (poll: the main thread, where the steps run; python: the HTTP loop and the "
            "other Python threads)",
        ],
    )
