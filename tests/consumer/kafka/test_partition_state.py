"""Partition ownership of the guard against the real broker: an assigned partition restores
(kept in `restoring` until current), a released one closes its store."""

from __future__ import annotations

from pathlib import Path

from confluent_kafka import Consumer, Producer

from consumer.config.settings import KafkaSettings
from consumer.kafka.partition_state import KafkaPartitionState
from consumer.kafka.properties import dead_letter_producer_config
from consumer.kafka.restore import ChangelogRestorer, restore_consumer_config
from consumer.observability.metrics import Metrics
from consumer.pipeline.state.mark import customer_key, encode_mark
from consumer.pipeline.state.store import StateStores
from devenv.kafka_local import Broker
from tests.support.kafka import TopicFactory


def test_assign_restore_release(
    kafka_broker: Broker, make_topics: TopicFactory, tmp_path: Path
) -> None:
    topics = make_topics(partitions=2, dlq=False)
    assert topics.state is not None
    settings = KafkaSettings(
        kafka_bootstrap_servers=kafka_broker.bootstrap, state_topic=topics.state
    )
    producer = Producer(dead_letter_producer_config(settings))
    for customer in range(2_000):
        producer.produce(
            topics.state, key=customer_key(customer), value=encode_mark((1, 1, 1)), partition=1
        )
    assert producer.flush(10) == 0

    stores = StateStores(tmp_path, topics.state)
    restorer = ChangelogRestorer(
        Consumer(restore_consumer_config(settings)), topics.state, stores, Metrics()
    )
    state = KafkaPartitionState(stores, restorer, Metrics(), restore_slice_s=0.05)
    state.assigned([0, 1])
    became: list[int] = state.tick()
    assert 0 in became  # an empty changelog partition is current at once
    assert stores.get(0) is not None
    for _ in range(200):
        if not state.restoring():
            break
        became += state.tick()
    assert state.restoring() == set()
    assert sorted(became) == [0, 1]
    store = stores.get(1)
    assert store is not None
    assert store.get(1_999) == (1, 1, 1)

    state.released([1])
    assert stores.opened(1) is None
    assert stores.get(0) is not None
    state.close()
    assert stores.partitions() == []
