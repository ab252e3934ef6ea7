"""CPU per delivered record of one saturated run under given settings: what the tracing and
metrics cost figures compare, off against on, in the same bench run.

A backlog on fresh topics, one `profile-sync run` child until idle, its CPU over the 10-90 %
window of what the emulator received, divided by the source records delivered in that window.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from bench.figures.common import (
    THREAD_KINDS,
    Context,
    Sampler,
    stats_probe,
    time_at_fraction,
    value_at,
)
from bench.figures.saturation import WINDOW  # the cost figure's window
from devenv.stack import wait_consumer

# What runs beside a consumer while it drains (a scraper, say), given the consumer's env.
Beside = Callable[[Mapping[str, str]], AbstractContextManager[object]]


@dataclass(frozen=True)
class Run:
    """CPU per delivered record of one run, in all and by thread kind (`THREAD_KINDS`)."""

    us: float
    by_thread: dict[str, float]


def cpu_per_record_us(
    ctx: Context,
    events: int,
    settings: Mapping[str, str],
    label: str,
    beside: Beside | None = None,
    seed: int = 13,
) -> Run:
    """One saturated run of `ctx`'s consumer (this checkout's or a baseline's)."""
    stack = ctx.stack
    topics = ctx.fresh_topics(f"cost-{label}", 6)
    stack.produce(events, seed=seed, topic=topics.topic)
    stack.reset_emulator()
    env = {**ctx.consumer_env(topics), **settings}
    started = time.monotonic()
    process = ctx.start_consumer(env, f"run-cost-{label}", exit_when_idle=3.0)
    with (
        (beside or (lambda _: nullcontext()))(env),
        Sampler(stats_probe(ctx, [process.pid], by_thread=True), 0.2) as sampler,
    ):
        finished = wait_consumer(process, started)
    if finished.returncode != 0:
        raise RuntimeError(f"run ({label}) exited {finished.returncode}")
    result = stack.account(topics.topic, topics.dlq_topic)
    times, received = sampler.series("received")
    cpu_times, cpu = sampler.series(f"cpu.{process.pid}")
    t_lo = time_at_fraction(times, received, WINDOW[0])
    t_hi = time_at_fraction(times, received, WINDOW[1])
    records = max((WINDOW[1] - WINDOW[0]) * result.delivered, 1)
    return Run(
        (value_at(cpu_times, cpu, t_hi) - value_at(cpu_times, cpu, t_lo)) / records * 1e6,
        {
            kind: sampler.change(f"threads.{process.pid}.{kind}", t_lo, t_hi) / records * 1e6
            for kind in THREAD_KINDS
        },
    )


@dataclass(frozen=True)
class Paired:
    """The runs, off and on."""

    off: list[Run]
    on: list[Run]

    @property
    def extra(self) -> float:
        """on / off - 1 of the medians."""
        return _median(self.on) / _median(self.off) - 1

    def measured(self) -> str:
        return f"{self.extra:+.1%} ({_median(self.off):.0f} -> {_median(self.on):.0f} us)"

    @property
    def spread(self) -> float:
        """How far runs of one side lie apart, relative to the off median: a difference
        between the sides smaller than this is not one this run can show."""
        widest = max(_width(self.off), _width(self.on))
        return widest / _median(self.off)

    def runs(self, on_label: str) -> str:
        return (
            f"CPU per delivered record, off: {', '.join(f'{r.us:.0f}' for r in self.off)} us; "
            f"on ({on_label}): {', '.join(f'{r.us:.0f}' for r in self.on)} us; "
            + (
                f"runs of one side differ by up to {self.spread:.0%}"
                if min(len(self.off), len(self.on)) > 1
                else "one run a side: no spread to compare with"
            )
        )

    def by_thread(self) -> str:
        """Where the difference goes: the off and on medians of each thread kind."""
        parts = []
        for kind in THREAD_KINDS:
            off = statistics.median(r.by_thread[kind] for r in self.off)
            on = statistics.median(r.by_thread[kind] for r in self.on)
            parts.append(f"{kind} {off:.1f} -> {on:.1f} us")
        return "by thread kind (medians): " + ", ".join(parts)


def _median(runs: list[Run]) -> float:
    return statistics.median(r.us for r in runs)


def _width(runs: list[Run]) -> float:
    return max(r.us for r in runs) - min(r.us for r in runs)


def paired(
    ctx: Context,
    events: int,
    pairs: int,
    off: Mapping[str, str],
    on: Mapping[str, str],
    name: str,
    beside_on: Beside | None = None,
) -> Paired:
    """`pairs` runs each, in the order off, on, on, off, ...: a drift of the machine, or the
    first run's warm-up of the broker, hits both sides alike."""
    result = Paired([], [])
    for i in range(pairs):
        first_off = i % 2 == 0
        for is_off in (first_off, not first_off):
            if is_off:
                result.off.append(cpu_per_record_us(ctx, events, off, f"{name}-off{i}"))
            else:
                result.on.append(cpu_per_record_us(ctx, events, on, f"{name}-on{i}", beside_on))
    return result
