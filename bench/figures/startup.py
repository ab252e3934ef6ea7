"""Start-up: from process start to the first acknowledgement <= 1 s.

A few records wait in a fresh topic (the group exists nowhere yet); one `profile-sync run` child
starts. Start-up = the emulator's `receivedTimeMs` of the first record it receives (AEP answers it
within milliseconds of that) minus the wall-clock time the child was started. Median of three
starts, each on its own topic and group, so it does not hinge on one scheduling hiccup.
"""

from __future__ import annotations

import signal
import statistics
import time

from bench.figures.common import Context, Figure
from devenv.stack import wait_consumer

NAME = "start-up to first acknowledgement"
TARGET_S = 1.0
STARTS = 3
RECORDS = 5


def _one_start(ctx: Context, n: int) -> float | None:
    stack = ctx.stack
    topics = ctx.fresh_topics("startup", 1)
    stack.produce(RECORDS, seed=40 + n, topic=topics.topic)
    stack.reset_emulator()
    started_wall = time.time()
    started = time.monotonic()
    process = ctx.start_consumer(ctx.consumer_env(topics), f"run-startup-{n}")
    first: float | None = None
    deadline = started + 60
    while time.monotonic() < deadline and process.poll() is None:
        records = stack.emulator_records()
        if records:
            first = min(int(r["receivedTimeMs"]) for r in records) / 1000 - started_wall
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    wait_consumer(process, started, 60)
    return first


def measure(ctx: Context) -> Figure:
    starts = [s for n in range(STARTS) if (s := _one_start(ctx, n)) is not None]
    if not starts:
        return Figure(NAME, "no acknowledgement", f"<= {TARGET_S:.1f} s", None, [])
    median = statistics.median(starts)
    return Figure(
        NAME,
        f"{median:.2f} s",
        f"<= {TARGET_S:.1f} s",
        median <= TARGET_S,
        [f"{len(starts)} starts: " + ", ".join(f"{s:.2f} s" for s in starts)],
    )
