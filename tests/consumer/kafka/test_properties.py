from __future__ import annotations

import pytest
from confluent_kafka import Consumer

from consumer.config.settings import KafkaSettings
from consumer.kafka.properties import (
    bounded_reader_config,
    consumer_config,
    dead_letter_producer_config,
    producer_config,
    replay_consumer_config,
)
from consumer.kafka.restore import restore_consumer_config


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> KafkaSettings:
    for name, value in env.items():
        monkeypatch.setenv(f"PROFILE_SYNC_{name}", value)
    return KafkaSettings()


def test_consumer_gets_the_service_owned_properties_and_the_users(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = consumer_config(
        settings(
            monkeypatch,
            KAFKA_CONFIG='{"security.protocol": "plaintext"}',
            KAFKA_CONSUMER_CONFIG='{"max.poll.interval.ms": 300000}',
            GROUP_ID="g1",
        )
    )
    assert config["enable.auto.offset.store"] == "false"
    assert config["auto.offset.reset"] == "earliest"
    assert config["partition.assignment.strategy"] == "cooperative-sticky"
    assert config["group.id"] == "g1"
    assert config["security.protocol"] == "plaintext"
    assert config["max.poll.interval.ms"] == "300000"


def test_producers_are_idempotent_with_acks_all(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(monkeypatch, KAFKA_PRODUCER_CONFIG='{"linger.ms": 50}')
    for config in (dead_letter_producer_config(s), producer_config(s)):
        assert config["enable.idempotence"] == "true"
        assert config["acks"] == "all"
        assert config["linger.ms"] == "50"


@pytest.mark.parametrize(
    ("own", "topic", "expected"),
    [
        (None, 65_536, "65536"),
        ('{"message.max.bytes": 50000}', 65_536, "50000"),
        (None, 10, "1000"),
    ],
)
def test_the_dead_letter_producer_bound_follows_the_topics(
    monkeypatch: pytest.MonkeyPatch, own: str | None, topic: int, expected: str
) -> None:
    s = settings(monkeypatch, **({"KAFKA_PRODUCER_CONFIG": own} if own else {}))
    assert "message.max.bytes" not in dead_letter_producer_config(s) or own
    assert dead_letter_producer_config(s, topic)["message.max.bytes"] == expected


def test_every_reader_gets_the_fetch_bounds_unless_the_user_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = settings(monkeypatch)
    for config in (consumer_config(s), replay_consumer_config(s), restore_consumer_config(s)):
        assert config["queued.max.messages.kbytes"] == "2048"
        assert config["fetch.max.bytes"] == str(2 * 1024 * 1024)
        assert config["max.partition.fetch.bytes"] == str(256 * 1024)
        assert config["fetch.queue.backoff.ms"] == "20"
    own = settings(
        monkeypatch,
        KAFKA_CONSUMER_CONFIG='{"queued.max.messages.kbytes": 65536, "fetch.max.bytes": 52428800}',
    )
    assert consumer_config(own)["queued.max.messages.kbytes"] == "65536"
    assert bounded_reader_config(own, "tools")["fetch.max.bytes"] == "52428800"


@pytest.mark.parametrize(
    ("own", "expected"),
    [
        ('{"message.max.bytes": 10000000}', "10000000"),
        ('{"receive.message.max.bytes": 1500000}', str(1_500_000 - 512)),
        ('{"message.max.bytes": "many"}', str(2 * 1024 * 1024)),
    ],
)
def test_the_fetch_bound_follows_the_users_message_bounds(
    monkeypatch: pytest.MonkeyPatch, own: str, expected: str
) -> None:
    assert consumer_config(settings(monkeypatch, KAFKA_CONFIG=own))["fetch.max.bytes"] == expected


@pytest.mark.parametrize(
    "own",
    [
        "{}",
        '{"message.max.bytes": 10000000}',
        '{"receive.message.max.bytes": 1500000}',
        '{"fetch.message.max.bytes": 4194304}',
    ],
)
def test_librdkafka_accepts_the_fetch_bounds_with_the_users_properties(
    monkeypatch: pytest.MonkeyPatch, own: str
) -> None:
    # The client checks these bounds against each other when it is created (no broker needed).
    s = settings(monkeypatch, KAFKA_CONFIG=own, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")
    for config in (consumer_config(s), bounded_reader_config(s, "tools")):
        Consumer({**config, "log_level": 0}).close()
