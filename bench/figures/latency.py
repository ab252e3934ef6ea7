"""Latency: p50 <= 10 ms and p99 <= 20 ms from Kafka CreateTime to the emulator's
`receivedTimeMs`, at 500 events/s paced.

A paced producer writes sample events at 500 a second while one `profile-sync run` child
delivers them. A record's latency is the emulator's `receivedTimeMs` minus the record's Kafka
timestamp (CreateTime), matched by the XDM `_id` the mapper derives from the event id. The paced
stream starts once the consumer has delivered a few primer records (its start-up is not part of
the warm-up); records written in its first 10 s are left out, the next 40 s count. The producer
sends each record at once (`linger.ms` 0): its own batching wait is the application's, not the
service's. Records superseded inside a batch by a newer record of the same customer never reach
AEP by themselves and have no latency of their own.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from pathlib import Path

from bench.figures.common import (
    Context,
    Figure,
    Topics,
    wait_first_delivery,
    wait_for_lag_zero,
)
from bench.paced_producer import produce_paced
from devenv.accounting import read_partitions
from devenv.stack import LocalStack, wait_consumer
from mappers.record_id import record_id
from schemas.avro import DecodeError, EventDecoder, WriterSchemaRegistry

NAME = "latency p50 / p99 at 500 events/s"
RATE = 500.0
TARGET_P50_MS = 10.0
TARGET_P99_MS = 20.0
PRIMER = 20


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    matched: int
    in_window: int
    produced: int
    records_per_request: float  # at this rate: how far the adaptive batching gathers

    @property
    def met(self) -> bool:
        return self.p50_ms <= TARGET_P50_MS and self.p99_ms <= TARGET_P99_MS


def kafka_timestamps(stack: LocalStack, topic: str) -> dict[str, int]:
    """The Kafka timestamp (ms) of every decodable record of the topic, by its XDM `_id`."""
    decoder = EventDecoder(WriterSchemaRegistry.load(None))
    found: dict[str, int] = {}
    for message in read_partitions(stack.bootstrap, topic):
        try:
            event = decoder.decode(message.value())
        except DecodeError:
            continue
        short_type = event.record_type.rsplit(".", 1)[-1]
        found[record_id(event.datum["event_id"], short_type)] = message.timestamp()[1]
    return found


def received_times(stack: LocalStack) -> dict[str, int]:
    """When the emulator first received each `_id`."""
    first: dict[str, int] = {}
    for line in stack.emulator_records():
        entity = line.get("entity") or {}
        if "_id" in entity:
            first.setdefault(entity["_id"], int(line["receivedTimeMs"]))
    return first


def percentile(sorted_values: list[float], share: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(share * len(sorted_values)) - 1))
    return sorted_values[index]


def measure_latency(
    ctx: Context, rate: float = RATE, dump: Path | None = None
) -> tuple[Latency | None, list[str]]:
    """`dump`: also write `created_ms,latency_ms` per matched record there (CSV)."""
    warmup_s = ctx.seconds(10, 3)
    measured_s = ctx.seconds(40, 10)
    stack = ctx.stack
    topics: Topics = ctx.fresh_topics("latency", 6)
    stack.reset_emulator()
    started = time.monotonic()
    process = ctx.start_consumer(ctx.consumer_env(topics), "run-latency")
    # A few records first: the warm-up starts once the consumer delivers, not while it starts.
    stack.produce(PRIMER, seed=99, topic=topics.topic)
    wait_first_delivery(ctx, 120, lambda: process.poll() is None)
    paced = produce_paced(stack.bootstrap, topics.topic, rate, warmup_s + measured_s, linger_ms=0)
    drained = wait_for_lag_zero(
        stack.bootstrap, topics.group_id, topics.topic, 300, lambda: process.poll() is None
    )
    process.send_signal(signal.SIGTERM)
    finished = wait_consumer(process, started, 120)
    stats = stack.emulator_stats()

    window_start_ms = (paced.started + warmup_s) * 1000
    window_end_ms = (paced.started + warmup_s + measured_s) * 1000
    produced_at = kafka_timestamps(stack, topics.topic)
    arrived = received_times(stack)
    in_window = {i: ts for i, ts in produced_at.items() if window_start_ms <= ts < window_end_ms}
    pairs = sorted((ts, float(arrived[i] - ts)) for i, ts in in_window.items() if i in arrived)
    if dump is not None:
        dump.write_text("created_ms,latency_ms\n" + "".join(f"{t},{ms:.0f}\n" for t, ms in pairs))
    latencies = sorted(ms for _, ms in pairs)
    batch_requests = sum(
        n for route, n in stats["requests"]["by_route"].items() if "/collection/batch/" in route
    )
    details = [
        f"paced at {rate:,.0f} events/s; {paced.produced:,} produced, {len(in_window):,} in the "
        f"{measured_s:.0f} s window after {warmup_s:.0f} s warm-up, {len(latencies):,} matched "
        f"at the emulator (the rest superseded in a batch); drained: {drained}, "
        f"run exit {finished.returncode}"
    ]
    if not latencies:
        return None, details
    result = Latency(
        p50_ms=percentile(latencies, 0.50),
        p90_ms=percentile(latencies, 0.90),
        p99_ms=percentile(latencies, 0.99),
        max_ms=latencies[-1],
        matched=len(latencies),
        in_window=len(in_window),
        produced=paced.produced,
        records_per_request=stats["messages"]["accepted"] / max(batch_requests, 1),
    )
    details.append(
        f"p50 {result.p50_ms:.0f} ms, p90 {result.p90_ms:.0f} ms, p99 {result.p99_ms:.0f} ms, "
        f"max {result.max_ms:.0f} ms; {result.records_per_request:.1f} records per request "
        "at this rate"
    )
    return result, details


def describe(result: Latency) -> str:
    return f"p50 {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms"


TARGET = f"p50 <= {TARGET_P50_MS:.0f} ms, p99 <= {TARGET_P99_MS:.0f} ms"


def measure(ctx: Context) -> Figure:
    result, details = measure_latency(ctx)
    if result is None:
        return Figure(NAME, "no records matched", TARGET, None, details)
    return Figure(NAME, describe(result), TARGET, result.met, details)
