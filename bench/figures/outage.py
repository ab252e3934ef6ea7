"""Outage: memory stays bounded and nothing is lost through a long 100 % 503 outage.

One `profile-sync run` child, paced sample events at half the saturated rate throughout (at most
`MAX_RATE`). After
a short warm-up the emulator answers every inlet request with 503 for 5 minutes
(`{"error_rate": 1.0, "statuses": [503]}`), then recovers; production stops at the end of the
outage and the consumer drains the backlog. The consumer's own peak resident set (`VmHWM` from
`/proc/PID/status`) and its RSS (psutil) are sampled every second: the peak over the whole run
against the same 160 MB as the backlog figure (issue 22: "Peak RSS <= 160 MB ... also through a
five-minute AEP outage"), and the RSS growth over the outage's last 3 minutes (median of the
first and last 5 samples of that window). Lost: devenv/accounting.py over the whole topic.
"""

from __future__ import annotations

import signal
import statistics
import threading
import time

from bench.figures.common import (
    Context,
    Figure,
    Sampler,
    process_rss_mb,
    vm_hwm_mb,
    wait_for_lag_zero,
)
from bench.paced_producer import produce_paced
from devenv.stack import wait_consumer

NAME = "outage memory, nothing lost"
PEAK_MB = 160.0
GROWTH_MB = 10.0
OUTAGE = {"error_rate": 1.0, "statuses": [503]}
# Half of a native-core consumer's rate (about 12,000 records/s) piles 3.6 million records up in
# the outage, and the emulator's record store then took more than the accounting's 60 s to list
# them (at 6,000 records/s too). The consumer's memory does not depend on the pace (the buffer
# bound pauses the partitions); 4,000 records/s is about half the Python steps' rate, the pace
# of the rounds before.
MAX_RATE = 4000.0


def measure(ctx: Context) -> Figure:
    rate = min(ctx.saturation().end_to_end_rate / 2, MAX_RATE)
    warmup_s = ctx.seconds(10, 3)
    outage_s = ctx.seconds(300, 20)
    window_s = outage_s * 3 / 5  # the last 3 of 5 minutes
    stack = ctx.stack
    topics = ctx.fresh_topics("outage", 6)
    stack.reset_emulator()
    started = time.monotonic()
    process = ctx.start_consumer(ctx.consumer_env(topics), "run-outage")
    pid = process.pid
    stop_producing = threading.Event()
    producer = threading.Thread(
        target=produce_paced,
        args=(stack.bootstrap, topics.topic, rate, warmup_s + outage_s + 60),
        kwargs={"stop": stop_producing},
        name="paced-producer",
    )
    with Sampler(lambda: {"rss": process_rss_mb(pid), "hwm": vm_hwm_mb(pid)}, 1.0) as sampler:
        producer.start()
        time.sleep(warmup_s)
        outage_began = time.monotonic()
        stack.set_faults(OUTAGE)
        time.sleep(outage_s)
        stack.set_faults({})
        outage_ended = time.monotonic()
        stop_producing.set()
        producer.join()
        drained = wait_for_lag_zero(
            stack.bootstrap,
            topics.group_id,
            topics.topic,
            ctx.seconds(900, 180),
            lambda: process.poll() is None,
        )
        alive_after = process.poll() is None
    process.send_signal(signal.SIGTERM)
    finished = wait_consumer(process, started, 120)
    result = stack.account(topics.topic, topics.dlq_topic)

    times, rss = sampler.series("rss")
    hwm_times, hwm = sampler.series("hwm")
    if not rss or not hwm:
        return Figure(NAME, "no RSS samples", f"peak <= {PEAK_MB:.0f} MB", None)
    window = [
        r for t, r in zip(times, rss, strict=True) if outage_ended - window_s <= t <= outage_ended
    ]
    peak = max(hwm)
    # VmHWM never falls: its value at the outage's end is the peak up to then.
    during = [h for t, h in zip(hwm_times, hwm, strict=True) if t <= outage_ended]
    after = [h for t, h in zip(hwm_times, hwm, strict=True) if t > outage_ended]
    growth = statistics.median(window[-5:]) - statistics.median(window[:5]) if window else 0.0
    met = peak <= PEAK_MB and growth <= GROWTH_MB and result.lost == 0 and drained
    return Figure(
        NAME,
        f"peak {peak:.0f} MB, growth {growth:+.1f} MB, lost {result.lost}",
        f"<= {PEAK_MB:.0f} MB, <= {GROWTH_MB:.0f} MB, 0",
        met,
        [
            f"{outage_s:.0f} s outage (began {outage_began - started:.0f} s after start) at "
            f"{rate:,.0f} rec/s; growth over its last {window_s:.0f} s; produced "
            f"{result.produced:,}, delivered {result.delivered:,}, dead-lettered "
            f"{result.dead_lettered}, lost {result.lost}; consumer alive through it: "
            f"{alive_after}, drained: {drained}, run exit {finished.returncode}",
            f"peak VmHWM by the outage's end {max(during, default=0):.0f} MB, after draining "
            f"the backlog {max(after, default=0):.0f} MB",
        ],
    )
