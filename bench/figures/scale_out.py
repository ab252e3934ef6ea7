"""Scale-out: 3 consumer processes on 6 partitions >= 2.5 x one process, AEP latency 200 ms.

The same backlog of sample events on a fresh 6-partition topic is delivered once by one
`profile-sync run` child and once by three children in one group, with the emulator adding
200 ms to every inlet answer (`{"latency_ms": 200}`). The rate is read from the emulator's
received count, from the later of (10 % received, every member holding partitions) to 90 %
received, so start-up and the joins' rebalances stay out. (Producing the backlog while the
consumers run would measure the producer: `profile-sync produce` is slower than three
consumers.) The consumers' CPU use over that
window is printed too: a process that already uses most of a core at 200 ms latency is bound
by CPU, not by AEP's latency, and then more processes can only add what free cores allow.
"""

from __future__ import annotations

import signal
import time

from bench.figures.common import (
    Context,
    Figure,
    Sampler,
    cores,
    stats_probe,
    time_at_fraction,
    value_at,
    wait_for_lag_zero,
    wait_group_stable,
)
from devenv.stack import wait_consumer

NAME = "scale-out 3 vs 1 process"
TARGET = 2.5
LATENCY = {"latency_ms": 200}
PARTITIONS = 6


def _rate(ctx: Context, processes: int, events: int) -> tuple[float, str]:
    stack = ctx.stack
    topics = ctx.fresh_topics(f"scale{processes}", PARTITIONS)
    stack.produce(events, seed=13, topic=topics.topic)
    stack.reset_emulator()
    stack.set_faults(LATENCY)
    started = time.monotonic()
    env = ctx.consumer_env(topics, expected_replicas=processes)
    children = [ctx.start_consumer(env, f"run-scale{processes}-{n}") for n in range(processes)]
    pids = [child.pid for child in children]

    def alive() -> bool:
        return all(child.poll() is None for child in children)

    with Sampler(stats_probe(ctx, pids), 0.2) as sampler:
        stable = wait_group_stable(stack.bootstrap, topics.group_id, processes, 120, alive)
        drained = wait_for_lag_zero(
            stack.bootstrap, topics.group_id, topics.topic, ctx.seconds(600, 180), alive
        )
    for child in children:
        child.send_signal(signal.SIGTERM)
    exits = [wait_consumer(child, started, 120) for child in children]
    stack.set_faults({})
    result = stack.account(topics.topic, topics.dlq_topic)
    times, received = sampler.series("received")
    # From the later of 10 % received and every member holding partitions, to 90 % received.
    t_lo = max(time_at_fraction(times, received, 0.1), stable or 0.0)
    t_hi = time_at_fraction(times, received, 0.9)
    if t_hi <= t_lo:
        raise RuntimeError(
            f"{processes} process(es): the group was stable only after 90 % was delivered; "
            "use more events"
        )
    window = t_hi - t_lo
    share = (0.9 * received[-1] - value_at(times, received, t_lo)) / received[-1]
    rate = share * result.delivered / window
    busy = 0.0
    for pid in pids:
        cpu_times, cpu = sampler.series(f"cpu.{pid}")
        if cpu:
            busy += (value_at(cpu_times, cpu, t_hi) - value_at(cpu_times, cpu, t_lo)) / window
    note = (
        f"{processes} process(es): {rate:,.0f} rec/s over {window:.1f} s "
        f"(group stable first: {stable is not None}, drained: {drained}), consumers busy "
        f"{busy:.2f} of {cores()} cores, {result.delivered:,} delivered, {result.lost} lost, "
        f"exits {[e.returncode for e in exits]}"
    )
    return rate, note


def measure(ctx: Context) -> Figure:
    events = 40_000 if ctx.quick else 80_000
    one, one_note = _rate(ctx, 1, events)
    three, three_note = _rate(ctx, 3, events)
    factor = three / one
    return Figure(
        NAME,
        f"{factor:.2f} x ({three:,.0f} vs {one:,.0f} rec/s)",
        f">= {TARGET} x",
        factor >= TARGET,
        [one_note, three_note, f"{events:,} events each, 200 ms emulator latency"],
    )
