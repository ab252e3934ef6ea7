"""Emulator headroom: the emulator sustains >= 2 x the consumer's end-to-end rate, validation
included, with a validation backlog of at most 5 s.

A fresh emulator in its own process (validation on, in its worker process; rate limits off) is
provisioned as `init` would, then H5's load generator (bench/emulator_bench.py), in a process of
its own, posts batches of the consumer's request size at a little over twice the saturated
end-to-end rate for 20 s. Met when the acknowledged rate reaches twice the consumer's rate
and the oldest message waiting for validation never got older than 5 s; records validated and
stored per second (over the load and the drain after it, H5's definition) are shown too.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]  # no stubs in the dev set

from aep_emulator.options import EmulatorOptions
from aep_emulator.server import running_emulator
from bench.emulator_bench import load_generator, provision
from bench.figures.common import Context, Figure

NAME = "emulator headroom"
FACTOR = 2.0
OFFERED = 2.1  # offered a little above the target, so pacing edges cannot hide a shortfall
BACKLOG_S = 5.0
SENDERS = 4


def measure(ctx: Context) -> Figure:
    saturation = ctx.saturation()
    target = FACTOR * saturation.end_to_end_rate
    offered = OFFERED * saturation.end_to_end_rate
    per_request = saturation.accepted / max(saturation.batch_requests, 1)
    batch = max(50, min(500, round(per_request)))
    duration_s = ctx.seconds(20, 5)
    options = EmulatorOptions(
        port=0, max_requests_per_s=0, max_messages_per_s=0, validation_processes=1
    )
    with running_emulator(options, subprocess=True) as emulator:
        assert emulator.pid is not None
        # Its validation workers can outlive a terminated emulator: stopped below.
        workers = psutil.Process(emulator.pid).children(recursive=True)
        ids = provision(emulator.url)
        stats_url = f"{emulator.url}/_emulator/stats"
        spawn = mp.get_context("spawn")
        answer: Any = spawn.Queue()
        generator = spawn.Process(
            target=load_generator, args=(ids, batch, SENDERS, duration_s, offered, answer)
        )
        generator.start()
        while httpx.get(stats_url).json()["requests"]["by_status"].get("207", 0) == 0:
            if not generator.is_alive():
                break
            time.sleep(0.05)
        started = time.monotonic()
        worst = 0.0
        while generator.is_alive():
            worst = max(worst, httpx.get(stats_url).json()["validation"]["backlog"]["oldest_s"])
            time.sleep(0.5)
        load_ended = time.monotonic()
        counts = answer.get(timeout=30)
        generator.join()
        while True:
            stats = httpx.get(stats_url).json()
            backlog = stats["validation"]["backlog"]
            worst = max(worst, backlog["oldest_s"])
            if backlog["messages"] == 0:
                break
            time.sleep(0.1)
        drained = time.monotonic()
    time.sleep(1)
    for worker in workers:
        with contextlib.suppress(psutil.Error):
            worker.terminate()
    acknowledged = counts["acknowledged"] / (load_ended - started)
    stored = stats["messages"]["accepted"] / (drained - started)
    # Validation keeps up when its backlog stays bounded; `stored` also counts the drain time.
    met = acknowledged >= target and worst <= BACKLOG_S
    return Figure(
        NAME,
        f"{acknowledged:,.0f} ack / {stored:,.0f} stored rec/s, backlog {worst:.1f} s",
        f">= {target:,.0f} rec/s, <= {BACKLOG_S:.0f} s",
        met,
        [
            f"offered {offered:,.0f} rec/s ({OFFERED} x the consumer's "
            f"{saturation.end_to_end_rate:,.0f}) "
            f"for {duration_s:.0f} s in batches of {batch}, {SENDERS} senders; "
            f"{stats['messages']['failed_validation']} failed validation, "
            f"{counts['refused']} refused; drain after load {drained - load_ended:.1f} s",
        ],
    )
