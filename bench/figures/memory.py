"""Peak memory with a large backlog: the consumer's own VmHWM <= 160 MB.

A backlog of sample events (1,000,000 in the full run) is produced first; one `profile-sync run`
child then consumes at saturation. Its peak resident set is read from its own
`/proc/PID/status` (`VmHWM`) while it runs: `wait4`'s figure would be the forking parent's
peak, not the child's. The run is stopped after draining or after a time cap (the peak comes in
the first seconds: polls never take more than the pipeline's buffer bound); the records it
delivered by then are printed beside the figure. A baseline run in the same `make bench` reads
the same backlog with a group of its own.
"""

from __future__ import annotations

import signal
import time
import uuid

from bench.figures.common import Context, Figure, Sampler, Topics, vm_hwm_mb
from devenv import kafka_local
from devenv.stack import wait_consumer

NAME = "peak RSS (VmHWM), large backlog"
TARGET_MB = 160.0
# `profile-sync produce` in steps: one run of a million events holds them all in memory.
PRODUCE_STEP = 200_000
# The backlog topic of this stack (its emulator's URL), produced once per run.
_BACKLOGS: dict[str, Topics] = {}


def _backlog_topics(ctx: Context, backlog: int) -> tuple[Topics, float]:
    """A topic holding `backlog` events and a fresh group (with its state topic) to read it."""
    stack = ctx.stack
    known = _BACKLOGS.get(stack.emulator_url)
    if known is not None:
        group = f"g-{uuid.uuid4().hex[:8]}"
        kafka_local.create_topics(
            stack.bootstrap, {f"{group}.state": 6}, {"cleanup.policy": "compact"}
        )
        return Topics(known.topic, known.dlq_topic, group), 0.0
    topics = ctx.fresh_topics("memory", 6)
    started = time.monotonic()
    for n, first in enumerate(range(0, backlog, PRODUCE_STEP)):
        stack.produce(min(PRODUCE_STEP, backlog - first), seed=70 + n, topic=topics.topic)
    _BACKLOGS[stack.emulator_url] = topics
    return topics, time.monotonic() - started


def measure(ctx: Context) -> Figure:
    backlog = 50_000 if ctx.quick else 1_000_000
    cap_s = ctx.seconds(180, 20)
    stack = ctx.stack
    topics, produce_s = _backlog_topics(ctx, backlog)
    stack.reset_emulator()
    started = time.monotonic()
    process = ctx.start_consumer(ctx.consumer_env(topics), "run-memory", exit_when_idle=3.0)
    pid = process.pid
    with Sampler(lambda: {"hwm": vm_hwm_mb(pid)}, 1.0) as sampler:
        while process.poll() is None and time.monotonic() - started < cap_s:
            time.sleep(0.5)
        _, hwm = sampler.series("hwm")
    received = int(stack.emulator_stats()["messages"]["received"])
    if process.returncode is None:  # still running at the cap: stopped (poll() reaped it else)
        process.send_signal(signal.SIGTERM)
        wait_consumer(process, started, 300)
        ending = f"stopped after {cap_s:.0f} s at saturation"
    else:
        ending = f"drained, run exit {process.returncode}"
    produced = f"produced in {produce_s:.0f} s" if produce_s else "the same backlog"
    details = [
        f"backlog {backlog:,} events ({produced}); {ending}; {received:,} messages reached "
        "the emulator"
    ]
    if not hwm:
        return Figure(NAME, "not sampled", f"<= {TARGET_MB:.0f} MB", None, details)
    peak = max(hwm)
    return Figure(NAME, f"{peak:.0f} MB", f"<= {TARGET_MB:.0f} MB", peak <= TARGET_MB, details)
