"""Restore against the real broker: from the beginning into an empty state directory, from the
local checkpoint when it survived, a store past the changelog's end is discarded, a restore is
cancelled on revoke, and a record that is not a mark stops the consumer."""

from __future__ import annotations

from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from consumer.config.settings import KafkaSettings
from consumer.kafka.properties import dead_letter_producer_config
from consumer.kafka.restore import (
    ChangelogRestorer,
    StateRestoreFailed,
    restore_consumer_config,
)
from consumer.observability.metrics import Metrics
from consumer.pipeline.state.mark import customer_key, encode_mark
from consumer.pipeline.state.store import StateStores
from devenv.kafka_local import Broker
from tests.support.kafka import TopicFactory


def _settings(broker: Broker, state_topic: str) -> KafkaSettings:
    return KafkaSettings(kafka_bootstrap_servers=broker.bootstrap, state_topic=state_topic)


def _write(settings: KafkaSettings, partition: int, marks: dict[int, tuple[int, int, int]]) -> None:
    producer = Producer(dead_letter_producer_config(settings))
    for customer, mark in marks.items():
        producer.produce(
            settings.state_topic,
            key=customer_key(customer),
            value=encode_mark(mark),
            partition=partition,
        )
    assert producer.flush(10) == 0


def _restorer(settings: KafkaSettings, stores: StateStores) -> ChangelogRestorer:
    consumer = Consumer(restore_consumer_config(settings))
    return ChangelogRestorer(consumer, settings.state_topic, stores, Metrics())


@pytest.fixture
def settings(kafka_broker: Broker, make_topics: TopicFactory) -> KafkaSettings:
    topics = make_topics(partitions=2, dlq=False, state=True)
    assert topics.state is not None
    return _settings(kafka_broker, topics.state)


def test_restores_from_the_beginning_then_from_the_checkpoint(
    settings: KafkaSettings, tmp_path: Path
) -> None:
    _write(settings, 0, {c: (c, c, c) for c in range(100)})
    _write(settings, 0, {5: (500, 500, 500)})  # a newer mark of customer 5, later in the log
    _write(settings, 1, {1_000: (1, 1, 1)})

    stores = StateStores(tmp_path, settings.state_topic)
    restorer = _restorer(settings, stores)
    results = restorer.restore([0, 1], timeout_s=30)
    assert {(r.partition, r.records, r.from_checkpoint) for r in results} == {
        (0, 101, False),
        (1, 1, False),
    }
    zero = stores.get(0)
    assert zero is not None
    assert zero.get(5) == (500, 500, 500)
    assert zero.get(99) == (99, 99, 99)
    assert zero.get(1_000) is None  # another partition's customer
    assert zero.position == 101
    restorer.close()
    stores.close_all()

    # The directory survived a restart: only what was written since is read.
    _write(settings, 0, {7: (700, 700, 700)})
    stores = StateStores(tmp_path, settings.state_topic)
    restorer = _restorer(settings, stores)
    [result] = restorer.restore([0], timeout_s=30)
    assert (result.records, result.from_checkpoint) == (1, True)
    zero = stores.get(0)
    assert zero is not None
    assert zero.get(7) == (700, 700, 700)
    assert zero.get(5) == (500, 500, 500)
    restorer.close()
    stores.close_all()

    # The directory was lost: everything again, from the changelog.
    stores = StateStores(tmp_path / "fresh", settings.state_topic)
    restorer = _restorer(settings, stores)
    [result] = restorer.restore([0], timeout_s=30)
    assert (result.records, result.from_checkpoint) == (102, False)
    zero = stores.get(0)
    assert zero is not None
    assert zero.get(7) == (700, 700, 700)
    restorer.close()
    stores.close_all()


def test_an_empty_changelog_is_current_at_once(settings: KafkaSettings, tmp_path: Path) -> None:
    stores = StateStores(tmp_path, settings.state_topic)
    restorer = _restorer(settings, stores)
    restorer.start(1)
    assert restorer.restoring() == set()
    [result] = restorer.finished()
    assert (result.partition, result.records) == (1, 0)
    restorer.close()
    stores.close_all()


def test_a_checkpoint_past_the_end_is_discarded(settings: KafkaSettings, tmp_path: Path) -> None:
    stores = StateStores(tmp_path, settings.state_topic)
    stores.open(0).apply([(b"9", encode_mark((9, 9, 9)))], 5_000)  # from a deleted topic
    _write(settings, 0, {1: (1, 1, 1)})
    restorer = _restorer(settings, stores)
    [result] = restorer.restore([0], timeout_s=30)
    assert (result.records, result.from_checkpoint) == (1, False)
    zero = stores.get(0)
    assert zero is not None
    assert zero.get(9) is None
    assert zero.get(1) == (1, 1, 1)
    restorer.close()
    stores.close_all()


def test_cancel_stops_a_restore(settings: KafkaSettings, tmp_path: Path) -> None:
    _write(settings, 0, {c: (c, c, c) for c in range(10)})
    stores = StateStores(tmp_path, settings.state_topic)
    restorer = _restorer(settings, stores)
    restorer.start(0)
    assert restorer.restoring() == {0}
    restorer.cancel(0)
    assert restorer.restoring() == set()
    restorer.advance(0.3)
    assert restorer.finished() == []
    restorer.close()
    stores.close_all()


def test_a_record_that_is_not_a_mark_stops_the_restore(
    settings: KafkaSettings, tmp_path: Path
) -> None:
    producer = Producer(dead_letter_producer_config(settings))
    producer.produce(settings.state_topic, key=b"1", value=b"{}", partition=1)
    assert producer.flush(10) == 0
    stores = StateStores(tmp_path, settings.state_topic)
    restorer = _restorer(settings, stores)
    with pytest.raises(StateRestoreFailed) as stopped:
        restorer.restore([1], timeout_s=30)
    assert f"{settings.state_topic}[1]@0" in str(stopped.value)
    restorer.close()
    stores.close_all()


def test_a_state_directory_in_use_stops_naming_the_setting(
    settings: KafkaSettings, tmp_path: Path
) -> None:
    holder = StateStores(tmp_path, settings.state_topic)
    holder.open(0)
    restorer = _restorer(settings, StateStores(tmp_path, settings.state_topic))
    with pytest.raises(StateRestoreFailed, match="PROFILE_SYNC_STATE_DIR"):
        restorer.start(0)
    restorer.close()
    holder.close_all()
