"""Mark writes: to the source record's partition (never the key's hash), accounted for only once
acknowledged, a failed write stops the consumer; and, against the real broker, the marks land
where the restore reads them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from consumer.config.settings import KafkaSettings
from consumer.kafka.changelog import ChangelogWriteFailed, ChangelogWriter
from consumer.kafka.properties import dead_letter_producer_config
from consumer.observability.metrics import Metrics
from consumer.pipeline.state.mark import decode_mark
from consumer.pipeline.state.store import StateStores
from devenv.kafka_local import Broker
from tests.consumer.pipeline.fakes import Collector, make_record
from tests.support.kafka import TopicFactory


class FakeMessage:
    def __init__(self, offset: int) -> None:
        self._offset = offset

    def offset(self) -> int:
        return self._offset


class FakeProducer:
    def __init__(self, full_times: int = 0) -> None:
        self.produced: list[dict[str, Any]] = []
        self.callbacks: list[Callable[[Any, Any], None]] = []
        self.full_times = full_times

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                partition: int = -1, *, on_delivery: Any = None) -> None:  # fmt: skip
        if self.full_times:
            self.full_times -= 1
            raise BufferError("queue full")
        self.produced.append({"topic": topic, "key": key, "value": value, "partition": partition})
        self.callbacks.append(on_delivery)

    def ack(self, error: Any = None) -> None:
        offset = len(self.produced) - len(self.callbacks)
        self.callbacks.pop(0)(error, None if error else FakeMessage(offset))

    def poll(self, timeout: float) -> int:
        return 0

    def flush(self, timeout: float) -> int:
        while self.callbacks:
            self.ack()
        return 0


def _writer(tmp_path: Path, producer: Any) -> tuple[ChangelogWriter, StateStores, Collector]:
    stores = StateStores(tmp_path, "g.state")
    stores.open(2)
    stores.mark_ready(2)
    accounted = Collector()
    return ChangelogWriter(producer, "g.state", stores, accounted, Metrics()), stores, accounted


def test_accounted_for_only_after_the_acknowledgement(tmp_path: Path) -> None:
    producer = FakeProducer()
    writer, stores, accounted = _writer(tmp_path, producer)
    record = make_record(17, partition=2, customer=1001, key=(50, 40))

    writer.submit(record)

    assert producer.produced == [
        {
            "topic": "g.state",
            "key": b"1001",
            "value": producer.produced[0]["value"],
            "partition": 2,
        }
    ]
    assert decode_mark(producer.produced[0]["value"]) == (50, 40, 17)
    store = stores.get(2)
    assert store is not None
    assert store.get(1001) == (50, 40, 17)  # the decision sees it at once
    assert accounted.records == []
    assert writer.pending() == 1
    producer.ack()
    assert accounted.records == [record]
    assert writer.pending() == 0
    assert store.position == 1  # the changelog offset 0 is reflected
    stores.close_all()


def test_a_mark_already_as_new_is_not_written_again(tmp_path: Path) -> None:
    producer = FakeProducer()
    writer, stores, accounted = _writer(tmp_path, producer)
    store = stores.get(2)
    assert store is not None
    store.put(1001, (60, 0, 3))
    older = make_record(18, partition=2, customer=1001, key=(50, 40))
    writer.submit(older)
    assert producer.produced == []
    assert accounted.records == [older]
    stores.close_all()


def test_a_revoked_partition_is_not_written(tmp_path: Path) -> None:
    producer = FakeProducer()
    writer, stores, accounted = _writer(tmp_path, producer)
    stores.close(2)
    record = make_record(1, partition=2, customer=5)
    writer.submit(record)
    assert producer.produced == []
    assert accounted.records == [record]


def test_a_full_queue_is_retried_in_order(tmp_path: Path) -> None:
    producer = FakeProducer(full_times=1)
    writer, stores, accounted = _writer(tmp_path, producer)
    first = make_record(1, partition=2, customer=1)
    second = make_record(2, partition=2, customer=2)
    writer.submit(first)
    writer.submit(second)  # behind the backlog, never before it
    assert producer.produced == []
    assert writer.pending() == 2
    writer.poll()
    assert [p["key"] for p in producer.produced] == [b"1", b"2"]
    assert writer.join(1.0)
    assert accounted.records == [first, second]
    stores.close_all()


def test_a_failed_write_stops_and_accounts_for_nothing_more(tmp_path: Path) -> None:
    producer = FakeProducer()
    writer, stores, accounted = _writer(tmp_path, producer)
    writer.submit(make_record(1, partition=2, customer=1))
    writer.submit(make_record(2, partition=2, customer=2))
    producer.ack(error="broker down")
    producer.ack()
    assert accounted.records == []
    with pytest.raises(ChangelogWriteFailed) as stopped:
        writer.poll()
    assert stopped.value.exit_code == 1
    assert "g.state" in str(stopped.value)
    assert "t[2]@1" in str(stopped.value)
    stores.close_all()


def test_marks_land_in_the_source_partition_on_the_real_broker(
    kafka_broker: Broker, make_topics: TopicFactory, tmp_path: Path
) -> None:
    topics = make_topics(partitions=3, dlq=False, state=True)
    assert topics.state is not None
    settings = KafkaSettings(kafka_bootstrap_servers=kafka_broker.bootstrap)
    producer = Producer(dead_letter_producer_config(settings))
    stores = StateStores(tmp_path, topics.state)
    for partition in range(3):
        stores.open(partition)
        stores.mark_ready(partition)
    accounted = Collector()
    writer = ChangelogWriter(producer, topics.state, stores, accounted, Metrics())
    # Customer 7 in every partition: its key hashes to one partition, the marks go to three.
    records = [make_record(10 + p, partition=p, customer=7, key=(p, p)) for p in range(3)]
    for record in records:
        writer.submit(record)
    assert writer.join(10.0)
    assert sorted(accounted.offsets) == [10, 11, 12]  # acknowledged per partition, any order

    consumer = Consumer(
        {
            "bootstrap.servers": kafka_broker.bootstrap,
            "group.id": "changelog-test",
            "enable.auto.commit": "false",
        }
    )
    consumer.assign([TopicPartition(topics.state, p, 0) for p in range(3)])
    seen: dict[int, list[tuple[bytes | None, tuple[int, int, int]]]] = {}
    for _ in range(50):
        for msg in consumer.consume(10, 0.2):
            assert msg.error() is None
            seen.setdefault(msg.partition(), []).append((msg.key(), decode_mark(msg.value())))
        if sum(len(v) for v in seen.values()) == 3:
            break
    consumer.close()
    assert seen == {p: [(b"7", (p, p, 10 + p))] for p in range(3)}
    for partition in range(3):
        store = stores.get(partition)
        assert store is not None
        assert store.position == 1
    stores.close_all()
