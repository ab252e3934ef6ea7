"""The saturated run behind three figures: efficiency, cost per record, records per request.

A backlog of sample events (no poison) is produced first, so the consumer is never waiting for
input; then one `profile-sync run` child, rate limits off, runs until idle against the emulator
(its own process, validation on). Rates and CPU are read between the moments the emulator had
received 10 % and 90 % of what it finally received, so start-up, group join and the idle wait at
the end stay out of the figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.figures.common import (
    THREAD_KINDS,
    Context,
    Sampler,
    stats_probe,
    time_at_fraction,
    value_at,
)
from devenv.accounting import read_partitions
from devenv.stack import wait_consumer

WINDOW = (0.1, 0.9)
SEED = 11  # the sample events' seed: the same records in every saturated run


@dataclass(frozen=True)
class Saturation:
    produced: int
    delivered: int  # source records accounted for (accepted, or superseded by an accepted one)
    dead_lettered: int
    lost: int
    accepted: int  # messages the emulator accepted (a batch sends only a customer's newest)
    batch_requests: int
    end_to_end_rate: float  # source records per second, inside the window
    window_s: float
    cpu_per_record_us: float  # consumer CPU per source record, inside the window
    whole_run_cpu_per_record_us: float  # start-up and idle wait included
    offline_rate: float
    offline_cpu_per_record_us: float | None
    exit_code: int
    offline_records: int
    consumer_busy: float  # cores used on average inside the window
    # Consumer CPU per source record inside the window, by thread kind (THREAD_KINDS); threads
    # that end inside the window are missing from it.
    thread_us: dict[str, float]
    emulator_busy: float
    broker_busy: float


def _offline_rate(values: list[bytes]) -> tuple[float, float | None]:
    """(records/s wall, CPU s per record or None) of H7's loop: decode + map + validate +
    serialise with the consumer's own code, in this process."""
    from bench.pipeline_bench import offline_rate

    offline_rate(values[: min(len(values), 2000)])  # warm caches and lazy imports first
    measured: object = offline_rate(values)
    if isinstance(measured, tuple):
        return float(measured[0]), float(measured[1])
    assert isinstance(measured, float)
    return measured, None


def measure_saturation(ctx: Context, events: int | None = None) -> Saturation:
    stack = ctx.stack
    events = events or (12_000 if ctx.quick else 80_000)
    topics = ctx.fresh_topics("saturation", 6)
    stack.produce(events, seed=SEED, topic=topics.topic)
    values = [m.value() for m in read_partitions(stack.bootstrap, topics.topic)]
    offline_values = values[: 8_000 if ctx.quick else 40_000]
    offline, offline_cpu = _offline_rate(offline_values)

    stack.reset_emulator()
    started = time.monotonic()
    process = ctx.start_consumer(ctx.consumer_env(topics), "run-saturation", exit_when_idle=3.0)
    assert stack.emulator_process is not None
    assert stack.broker is not None
    trees = {"emulator": stack.emulator_process.pid, "broker": stack.broker.pid}
    with Sampler(stats_probe(ctx, [process.pid], trees, by_thread=True), 0.2) as sampler:
        finished = wait_consumer(process, started)
    stats = stack.emulator_stats()
    result = stack.account(topics.topic, topics.dlq_topic)

    times, received = sampler.series("received")
    cpu_times, cpu = sampler.series(f"cpu.{process.pid}")
    t_lo = time_at_fraction(times, received, WINDOW[0])
    t_hi = time_at_fraction(times, received, WINDOW[1])
    window = max(t_hi - t_lo, 1e-9)
    records_in_window = (WINDOW[1] - WINDOW[0]) * result.delivered
    cpu_in_window = value_at(cpu_times, cpu, t_hi) - value_at(cpu_times, cpu, t_lo)
    batch_requests = sum(
        n for route, n in stats["requests"]["by_route"].items() if "/collection/batch/" in route
    )
    return Saturation(
        produced=result.produced,
        delivered=result.delivered,
        dead_lettered=result.dead_lettered,
        lost=result.lost,
        accepted=int(stats["messages"]["accepted"]),
        batch_requests=batch_requests,
        end_to_end_rate=records_in_window / window,
        window_s=window,
        cpu_per_record_us=cpu_in_window / max(records_in_window, 1) * 1e6,
        whole_run_cpu_per_record_us=finished.cpu_s / max(result.delivered, 1) * 1e6,
        offline_rate=offline,
        offline_cpu_per_record_us=None if offline_cpu is None else offline_cpu * 1e6,
        exit_code=finished.returncode,
        offline_records=len(offline_values),
        consumer_busy=_busy(sampler, str(process.pid), t_lo, t_hi),
        thread_us={
            kind: sampler.change(f"threads.{process.pid}.{kind}", t_lo, t_hi)
            / max(records_in_window, 1)
            * 1e6
            for kind in THREAD_KINDS
        },
        emulator_busy=_busy(sampler, "emulator", t_lo, t_hi),
        broker_busy=_busy(sampler, "broker", t_lo, t_hi),
    )


def _busy(sampler: Sampler, key: str, t_lo: float, t_hi: float) -> float:
    """Cores a process (or tree) used on average between t_lo and t_hi."""
    return sampler.change(f"cpu.{key}", t_lo, t_hi) / max(t_hi - t_lo, 1e-9)
