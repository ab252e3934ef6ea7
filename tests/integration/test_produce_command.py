"""`profile-sync produce` against the real broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from devenv.kafka_local import Broker
from tests.integration.run_support import read_topic
from tests.support.kafka import TopicFactory

PROFILE_SYNC = str(Path(sys.executable).with_name("profile-sync"))


def _produce(broker: Broker, topic: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROFILE_SYNC_")},
        "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "PROFILE_SYNC_TOPIC": topic,
    }
    return subprocess.run(
        [PROFILE_SYNC, "produce", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_produce_writes_keyed_reproducible_events_and_one_summary_line(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    first, second = make_topics(partitions=3), make_topics(partitions=3)
    args = ("--count", "300", "--seed", "5", "--poison-share", "0.1")
    done = _produce(kafka_broker, first.name, *args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["produced"] == 300
    assert summary["failed"] == 0
    assert sum(summary["events"].values()) == 300
    assert 10 <= summary["poison_total"] <= 60
    assert set(summary["events"]) <= {"CustomerCreated", "CustomerUpdated", "CustomerDeleted"}

    messages = read_topic(kafka_broker.bootstrap, first.name)
    assert len(messages) == 300
    # keyed by customer id: one customer, one partition
    partitions_of: dict[bytes, set[int]] = {}
    for msg in messages:
        assert msg.key().decode().isdigit()
        partitions_of.setdefault(msg.key(), set()).add(msg.partition())
    assert all(len(p) == 1 for p in partitions_of.values())

    again = _produce(kafka_broker, second.name, *args)
    assert json.loads(again.stdout) == {**summary, "topic": second.name}
    values = Counter((m.key(), m.value()) for m in read_topic(kafka_broker.bootstrap, second.name))
    assert values == Counter((m.key(), m.value()) for m in messages)


def test_produce_to_a_missing_topic_exits_2_naming_the_variable(kafka_broker: Broker) -> None:
    done = _produce(kafka_broker, "no.such.topic", "--count", "1")
    assert done.returncode == 2
    assert "PROFILE_SYNC_TOPIC" in done.stderr
    assert done.stdout == ""
