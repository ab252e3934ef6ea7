"""`run` with poison too large to copy whole to the dead-letter topic: once over the dead-letter
producer's message.max.bytes, once over the topic's max.message.bytes. Each is dead-lettered
without its value (marked with its size) and `run` goes on: no crash loop on one record. Small
poison written around the oversized one keeps its value: the producer's bound follows the topic's,
so the broker never refuses a batch that holds their copies too."""

from __future__ import annotations

import os

import pytest
from confluent_kafka import Producer

from consumer.commands.run import run_consumer
from consumer.kafka.dead_letters import H_VALUE_OMITTED
from devenv import kafka_local
from devenv.kafka_local import Broker
from devenv.sample_events import generate_events
from schemas.avro import EventEncoder, WriterSchemaRegistry
from tests.integration.run_support import (
    aep_target,
    committed_offsets,
    consumer_env,
    end_offsets,
    read_dead_letters,
)
from tests.support.kafka import TopicFactory, Topics

# Under librdkafka's default message.max.bytes (1,000,000) and the broker's default
# max.message.bytes: Commerce could write it. With the dead-letter headers it is over the first.
OVER_THE_PRODUCER = b"bad" + b"\xff" * 999_797
OVER_THE_TOPIC = b"bad" + b"\xff" * 99_997
DLQ_MAX_MESSAGE_BYTES = "65536"
SMALL_POISON = (b"bad-before", b"bad-after")


def test_poison_too_large_to_copy_is_dead_lettered_without_its_value(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_topics(partitions=1, dlq=False)
    dlq = f"{source.name}.dlq"
    kafka_local.create_topics(
        kafka_broker.bootstrap, {dlq: 1}, {"max.message.bytes": DLQ_MAX_MESSAGE_BYTES}
    )
    topics = Topics(source.name, dlq, 1, source.state)
    encoder = EventEncoder(WriterSchemaRegistry.load())
    good = list({e.key: e for e in generate_events(20, seed=31) if not e.is_poison}.values())[:3]
    values = [
        encoder.encode_single_object(good[0].record_type, good[0].datum),
        OVER_THE_PRODUCER,
        encoder.encode_single_object(good[1].record_type, good[1].datum),
        SMALL_POISON[0],
        OVER_THE_TOPIC,
        SMALL_POISON[1],
        encoder.encode_single_object(good[2].record_type, good[2].datum),
    ]
    producer = Producer(
        {"bootstrap.servers": kafka_broker.bootstrap, "message.max.bytes": 2_000_000}
    )
    for value in values:
        producer.produce(topics.name, value=value, key=b"k")
    assert producer.flush(30) == 0

    with aep_target() as target:
        env = consumer_env(kafka_broker.bootstrap, topics, target)
        for name in [n for n in os.environ if n.startswith("PROFILE_SYNC_")]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert run_consumer(None, exit_when_idle=1.0) == 0
        assert len(target.records()) == 3

    copies = {copy.coordinates[2]: copy for copy in read_dead_letters(kafka_broker.bootstrap, dlq)}
    assert sorted(copies) == [1, 3, 4, 5]
    for offset, value in ((3, SMALL_POISON[0]), (5, SMALL_POISON[1])):
        assert copies[offset].value == value
        assert H_VALUE_OMITTED not in copies[offset].headers
    for offset, size in ((1, len(OVER_THE_PRODUCER)), (4, len(OVER_THE_TOPIC))):
        copy = copies[offset]
        assert copy.value is None
        assert copy.key == b"k"
        assert copy.headers[H_VALUE_OMITTED] == str(size)
        assert copy.headers["profile_sync.error.class"] == "decode.unknown_magic"
    committed = committed_offsets(
        kafka_broker.bootstrap, env["PROFILE_SYNC_GROUP_ID"], topics.name, 1
    )
    assert committed == end_offsets(kafka_broker.bootstrap, topics.name, 1)
