"""Latency: p99 <= 1.5 s at half the measured maximum rate.

A paced producer writes sample events at half the saturated end-to-end rate while one
`profile-sync run` child delivers them. A record's latency is the emulator's `receivedTimeMs`
minus the record's Kafka timestamp (CreateTime), matched by the XDM `_id` the mapper derives
from the event id. The paced stream starts once the consumer has delivered a few primer
records (its start-up is not part of the warm-up); records written in its first 10 s are left
out, the next 60 s count. Records superseded inside a batch by a newer record of the same
customer never reach AEP by themselves and have no latency of their own.
"""

from __future__ import annotations

import signal
import time

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

NAME = "latency p99 at half max rate"
TARGET_S = 1.5
PRIMER = 20


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


def measure(ctx: Context) -> Figure:
    rate = ctx.saturation().end_to_end_rate / 2
    warmup_s = ctx.seconds(10, 3)
    measured_s = ctx.seconds(60, 10)
    stack = ctx.stack
    topics: Topics = ctx.fresh_topics("latency", 6)
    stack.reset_emulator()
    started = time.monotonic()
    process = stack.start_consumer(ctx.config, env=ctx.consumer_env(topics), name="run-latency")
    # A few records first: the warm-up starts once the consumer delivers, not while it starts.
    stack.produce(PRIMER, seed=99, topic=topics.topic)
    wait_first_delivery(ctx, 120, lambda: process.poll() is None)
    paced = produce_paced(stack.bootstrap, topics.topic, rate, warmup_s + measured_s)
    drained = wait_for_lag_zero(
        stack.bootstrap, topics.group_id, topics.topic, 300, lambda: process.poll() is None
    )
    process.send_signal(signal.SIGTERM)
    finished = wait_consumer(process, started, 120)

    window_start_ms = (paced.started + warmup_s) * 1000
    window_end_ms = (paced.started + warmup_s + measured_s) * 1000
    produced_at = kafka_timestamps(stack, topics.topic)
    arrived = received_times(stack)
    in_window = {i: ts for i, ts in produced_at.items() if window_start_ms <= ts < window_end_ms}
    latencies = sorted((arrived[i] - ts) / 1000 for i, ts in in_window.items() if i in arrived)
    details = [
        f"paced at {rate:,.0f} rec/s (half of {2 * rate:,.0f}); {paced.produced:,} produced, "
        f"{len(in_window):,} in the {measured_s:.0f} s window after {warmup_s:.0f} s warm-up, "
        f"{len(latencies):,} matched at the emulator (the rest superseded in a batch); "
        f"drained: {drained}, run exit {finished.returncode}"
    ]
    if not latencies:
        return Figure(NAME, "no records matched", f"<= {TARGET_S} s", None, details)
    p99 = percentile(latencies, 0.99)
    details.append(
        f"p50 {percentile(latencies, 0.50):.3f} s, p90 {percentile(latencies, 0.90):.3f} s, "
        f"max {latencies[-1]:.3f} s"
    )
    return Figure(NAME, f"{p99:.3f} s", f"<= {TARGET_S} s", p99 <= TARGET_S, details)
