"""A producer that writes sample events at a steady rate (the latency and outage figures).

Events come from the project's sample generator and encoder (the same bytes `profile-sync
produce` writes); librdkafka stamps each record with its produce time (CreateTime), which the
latency figure compares with the emulator's `receivedTimeMs`.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from confluent_kafka import Producer

from devenv.sample_events import generate_events
from schemas.avro import EventEncoder, WriterSchemaRegistry

TICK_S = 0.01


@dataclass
class PacedResult:
    produced: int = 0
    failed: int = 0
    started: float = 0.0  # time.time() of the first record
    finished: float = 0.0


def produce_paced(
    bootstrap: str,
    topic: str,
    rate: float,
    duration_s: float,
    *,
    seed: int = 5,
    poison_share: float = 0.0,
    stop: threading.Event | None = None,
    linger_ms: int = 5,
) -> PacedResult:
    """Write `rate` events a second for `duration_s` (or until `stop` is set), evenly: every
    tick it sends what the clock says is due, so a late tick catches up instead of drifting."""
    encoder = EventEncoder(WriterSchemaRegistry.load(None))
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": linger_ms, "acks": "all"})
    result = PacedResult()

    def delivered(error: object, _message: object) -> None:
        if error is not None:
            result.failed += 1

    total = math.ceil(rate * duration_s)
    events = iter(generate_events(total, seed, poison_share))
    start = time.monotonic()
    result.started = time.time()
    sent = 0
    while sent < total and not (stop is not None and stop.is_set()):
        due = min(total, int((time.monotonic() - start) * rate) + 1)
        while sent < due:
            event = next(events)
            value = event.value(encoder.encode_single_object)
            try:
                producer.produce(topic, value=value, key=event.key.encode(), on_delivery=delivered)
            except BufferError:
                producer.poll(0.05)
                continue  # the event is skipped; a paced stream has no use for a backlog here
            sent += 1
        producer.poll(0)
        time.sleep(max(0.0, start + sent / rate - time.monotonic()) or TICK_S / 10)
    producer.flush(60)
    result.produced = sent - result.failed
    result.finished = time.time()
    return result
