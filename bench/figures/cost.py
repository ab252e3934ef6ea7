"""Cost per record: consumer CPU (user + system, all threads) per delivered record <= 45 us.

CPU of the `profile-sync run` child (psutil, sampled) over the saturated run's 10-90 % window,
divided by the source records delivered in it; the whole-run figure (wait4 rusage of the child,
start-up and idle wait included) is printed beside it, and the window's CPU by thread kind (the
poll thread, librdkafka's, RocksDB's, the other Python threads).
"""

from __future__ import annotations

from bench.figures.common import Context, Figure

NAME = "cost per record"
TARGET_US = 45.0


def measure(ctx: Context) -> Figure:
    s = ctx.saturation()
    return Figure(
        NAME,
        f"{s.cpu_per_record_us:.0f} us",
        f"<= {TARGET_US:.0f} us",
        s.cpu_per_record_us <= TARGET_US,
        [
            f"whole run incl. start-up and idle wait: {s.whole_run_cpu_per_record_us:.0f} us "
            f"per delivered record ({s.delivered:,} delivered)",
            "by thread, same window: "
            + ", ".join(f"{kind} {us:.1f} us" for kind, us in s.thread_us.items())
            + " (poll: the main thread, where the steps run; python: the HTTP loop and the "
            "other Python threads)",
        ],
    )
