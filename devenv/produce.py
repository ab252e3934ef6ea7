"""`profile-sync produce`: realistic, reproducible sample events, keyed by customer id.

Events (and their poison, byte-level and mapping-level) come from `devenv.sample_events`; this
module encodes them in the chosen wire format and writes them. stdout gets exactly one JSON line,
the summary: counts by record type and by poison kind.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Final

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from consumer.config import exit_codes
from consumer.config.loading import load_all
from consumer.config.settings import AvroSettings, KafkaSettings, variable
from consumer.kafka.properties import producer_config
from devenv.sample_events import generate_events
from schemas.avro import ConfluentRegistryClient, EventEncoder, WriterSchemaRegistry

FLUSH_TIMEOUT_S: Final = 60.0
METADATA_TIMEOUT_S: Final = 10.0


def _fail(message: str, code: int) -> int:
    print(f"profile-sync produce: {message}", file=sys.stderr)
    return code


def run_produce(
    config_file: Path | None,
    *,
    count: int,
    seed: int = 1,
    poison_share: float = 0.0,
    topic: str | None = None,
    wire_format: str = "single-object",
) -> int:
    kafka, avro = load_all(config_file, KafkaSettings, AvroSettings)
    if wire_format == "confluent" and avro.schema_registry_url is None:
        return _fail(
            f"{variable('schema_registry_url')}: is required for --format confluent",
            exit_codes.CONFIG_INVALID,
        )
    target = topic or kafka.topic
    producer = Producer(producer_config(kafka))
    try:
        metadata = producer.list_topics(timeout=METADATA_TIMEOUT_S)
    except KafkaException as exc:
        return _fail(
            f"cannot reach Kafka at {variable('kafka_bootstrap_servers')} ({exc.args[0]})",
            exit_codes.ERROR,
        )
    found = metadata.topics.get(target)
    if found is None or found.error is not None:
        named = "--topic" if topic else variable("topic")
        return _fail(f"{named}: topic {target!r} does not exist", exit_codes.CONFIG_INVALID)

    encoder = EventEncoder(WriterSchemaRegistry.load(avro.avro_schema_dir))
    registry: ConfluentRegistryClient | None = None
    if wire_format == "confluent":
        registry = ConfluentRegistryClient(str(avro.schema_registry_url))
        client = registry

        def encode(record_type: str, datum: dict[str, Any]) -> bytes:
            return encoder.encode_confluent(record_type, datum, client, topic=target)
    else:

        def encode(record_type: str, datum: dict[str, Any]) -> bytes:
            return encoder.encode_single_object(record_type, datum)

    failed: list[KafkaError] = []

    def delivered(error: KafkaError | None, _msg: Message[bytes, bytes]) -> None:
        if error is not None:
            failed.append(error)

    events: Counter[str] = Counter()
    poison: Counter[str] = Counter()
    try:
        for event in generate_events(count, seed, poison_share):
            value = event.value(encode)
            while True:
                try:
                    producer.produce(
                        target, value=value, key=event.key.encode(), on_delivery=delivered
                    )
                    break
                except BufferError:
                    producer.poll(0.1)  # the local queue is full: let deliveries drain
            producer.poll(0)
            events[event.record_type] += 1
            if event.poison_kind is not None:
                poison[event.poison_kind] += 1
        remaining = producer.flush(FLUSH_TIMEOUT_S)
    finally:
        if registry is not None:
            registry.close()
    summary = {
        "topic": target,
        "format": wire_format,
        "seed": seed,
        "produced": count - len(failed) - remaining,
        "failed": len(failed) + remaining,
        "events": dict(sorted(events.items())),
        "poison": dict(sorted(poison.items())),
        "poison_total": sum(poison.values()),
    }
    print(json.dumps(summary, sort_keys=False), flush=True)
    if failed or remaining:
        first = str(failed[0]) if failed else "flush timed out"
        return _fail(f"{summary['failed']} event(s) not written ({first})", exit_codes.ERROR)
    return exit_codes.OK
