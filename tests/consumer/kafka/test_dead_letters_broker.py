"""Dead-letter copies too large to write, against the real broker: written without their value,
never a crash, and accounted only once acknowledged."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Producer

from consumer.kafka.dead_letters import H_VALUE_OMITTED, DeadLetterProducer
from consumer.kafka.properties import PRODUCER_OWNED
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import DeadLetter
from devenv.accounting import read_partitions
from devenv.kafka_local import Broker
from tests.consumer.pipeline.fakes import Collector, make_record
from tests.support.kafka import TopicFactory

REASON = DeadLetter("decode.malformed_body", "body does not decode", "decode")


def _write(bootstrap: str, topic: str, values: list[bytes], **config: str) -> Collector:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": "5", **config, **PRODUCER_OWNED}
    )
    accounted = Collector()
    sink = DeadLetterProducer(producer, topic, accounted, Metrics())
    for offset, value in enumerate(values):
        sink.dead_letter(make_record(offset, value=value), REASON)
        # One at a time: a batch the topic refuses as too large fails every record in it.
        assert sink.join(30.0)
    sink.close()
    return accounted


def _copies(bootstrap: str, topic: str) -> list[tuple[bytes | None, dict[str, bytes]]]:
    copies: list[tuple[bytes | None, dict[str, bytes]]] = []
    for message in read_partitions(bootstrap, topic):
        headers: list[tuple[str, Any]] = message.headers() or []
        copies.append((message.value(), dict(headers)))
    return copies


def test_a_copy_over_the_topics_max_message_bytes_goes_without_its_value(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(dlq=True, config={"max.message.bytes": "4096"})
    assert topics.dlq is not None
    big, small = b"\xff" * 20_000, b"\xff" * 100
    accounted = _write(kafka_broker.bootstrap, topics.dlq, [big, small])
    assert accounted.offsets == [0, 1]
    (big_value, big_headers), (small_value, small_headers) = _copies(
        kafka_broker.bootstrap, topics.dlq
    )
    assert big_value is None
    assert big_headers[H_VALUE_OMITTED] == b"20000"
    assert big_headers["h"] == b"1"
    assert big_headers["__connect.errors.offset"] == b"0"
    assert big_headers["profile_sync.error.class"] == b"decode.malformed_body"
    assert small_value == small
    assert H_VALUE_OMITTED not in small_headers


def test_a_copy_over_the_producers_message_max_bytes_goes_without_its_value(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(dlq=True)
    assert topics.dlq is not None
    big = b"\xff" * 50_000
    accounted = _write(
        kafka_broker.bootstrap,
        topics.dlq,
        [big, b"ok"],
        **{"message.max.bytes": "10000", "batch.size": "10000"},
    )
    assert accounted.offsets == [0, 1]
    copies = _copies(kafka_broker.bootstrap, topics.dlq)
    assert [value for value, _ in copies] == [None, b"ok"]
    assert copies[0][1][H_VALUE_OMITTED] == b"50000"
