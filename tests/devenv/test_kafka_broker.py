"""The real local broker: produce/consume with a committed group, topic creation, auto-create off,
and the `kafka_local.py up` command's contract (already running: exit 0; foreign port: exit 1)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from devenv import kafka_local
from devenv.kafka_local import Broker
from tests.support.kafka import TopicFactory
from tests.support.leak_sweep import record_output, register_secret

pytestmark = pytest.mark.integration

SCRIPT = Path(kafka_local.__file__).resolve()


def produce(bootstrap: str, topic: str, values: list[bytes], partition: int = 0) -> None:
    errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            errors.append(err)

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for value in values:
        producer.produce(topic, value=value, partition=partition, on_delivery=on_delivery)
    assert producer.flush(30) == 0
    assert errors == []


def consumer(bootstrap: str, group: str) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )


def poll_values(cons: Consumer, count: int, timeout: float = 30.0) -> list[Message]:
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        msg = cons.poll(0.5)
        if msg is None:
            continue
        assert msg.error() is None, msg.error()
        got.append(msg)
    return got


def test_committed_group_resumes_after_the_committed_offset(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=1, dlq=False)
    produce(kafka_broker.bootstrap, topics.name, [f"m{i}".encode() for i in range(10)])
    group = f"group-{uuid.uuid4().hex[:8]}"

    first = consumer(kafka_broker.bootstrap, group)
    first.subscribe([topics.name])
    read = poll_values(first, 4)
    assert [m.value() for m in read] == [b"m0", b"m1", b"m2", b"m3"]
    # commit position 4 = the next record to read, synchronously
    first.commit(offsets=[TopicPartition(topics.name, 0, 4)], asynchronous=False)
    committed = first.committed([TopicPartition(topics.name, 0)], timeout=10)
    assert committed[0].offset == 4
    first.close()

    second = consumer(kafka_broker.bootstrap, group)
    second.subscribe([topics.name])
    rest = poll_values(second, 6)
    second.close()
    assert [m.offset() for m in rest] == [4, 5, 6, 7, 8, 9]
    assert rest[0].value() == b"m4"


def test_topics_are_created_with_the_requested_partitions(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=3, dlq=True, dlq_partitions=2)
    assert topics.dlq == f"{topics.name}.dlq"
    metadata = AdminClient({"bootstrap.servers": kafka_broker.bootstrap}).list_topics(timeout=10)
    assert len(metadata.topics[topics.name].partitions) == 3
    assert len(metadata.topics[topics.dlq].partitions) == 2
    # usable at once: the last partition takes a write without retries
    produce(kafka_broker.bootstrap, topics.name, [b"x"], partition=2)


def test_topics_without_dead_letter_topic(kafka_broker: Broker, make_topics: TopicFactory) -> None:
    topics = make_topics(partitions=1, dlq=False)
    assert topics.dlq is None
    metadata = AdminClient({"bootstrap.servers": kafka_broker.bootstrap}).list_topics(timeout=10)
    assert f"{topics.name}.dlq" not in metadata.topics


def test_auto_create_is_off_for_producers(kafka_broker: Broker) -> None:
    missing = f"missing.{uuid.uuid4().hex[:8]}"
    errors: list[KafkaError | None] = []
    producer = Producer(
        {
            "bootstrap.servers": kafka_broker.bootstrap,
            "message.timeout.ms": 5000,
            "topic.metadata.propagation.max.ms": 1000,
        }
    )
    producer.produce(missing, value=b"x", on_delivery=lambda err, _m: errors.append(err))
    producer.flush(15)
    assert len(errors) == 1
    error = errors[0]
    assert error is not None
    print(f"producer error: {error.name()}")
    assert error.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC)
    metadata = AdminClient({"bootstrap.servers": kafka_broker.bootstrap}).list_topics(timeout=10)
    assert missing not in metadata.topics


def test_auto_create_is_off_for_consumers(kafka_broker: Broker) -> None:
    missing = f"missing.{uuid.uuid4().hex[:8]}"
    cons = consumer(kafka_broker.bootstrap, f"group-{uuid.uuid4().hex[:8]}")
    cons.subscribe([missing])
    seen: KafkaError | None = None
    deadline = time.monotonic() + 20
    while seen is None and time.monotonic() < deadline:
        msg = cons.poll(0.5)
        if msg is not None and msg.error() is not None:
            seen = msg.error()
    cons.close()
    assert seen is not None
    assert seen.code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def run_cli(
    command: str, bootstrap: str, up_dir: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        kafka_local.BOOTSTRAP_ENV: bootstrap,
        kafka_local.UP_DIR_ENV: str(up_dir),
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT), command, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def up_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "up"
    yield directory
    # never leave a detached broker behind, whatever the test did
    pid = kafka_local.running_broker_pid(directory)
    if pid is not None:
        kafka_local.cmd_down(directory)


def test_up_twice_says_already_running_and_down_stops_it(up_dir: Path) -> None:
    bootstrap = f"127.0.0.1:{kafka_local.free_port()}"

    started = run_cli("up", bootstrap, up_dir)
    assert started.returncode == 0, started.stderr
    assert f"ready on {bootstrap}" in started.stdout
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    assert metadata.brokers

    again = run_cli("up", bootstrap, up_dir)
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout

    assert run_cli("status", bootstrap, up_dir).returncode == 0

    stopped = run_cli("down", bootstrap, up_dir)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    assert kafka_local.running_broker_pid(up_dir) is None

    idle = run_cli("down", bootstrap, up_dir)
    assert idle.returncode == 0
    assert "no local Kafka broker running" in idle.stdout
    assert run_cli("status", bootstrap, up_dir).returncode == 1


def test_up_on_a_port_held_by_another_process_fails_naming_the_port(up_dir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = run_cli("up", f"127.0.0.1:{port}", up_dir)
    assert result.returncode == 1
    assert str(port) in result.stderr
    assert "in use" in result.stderr
    assert kafka_local.running_broker_pid(up_dir) is None


def test_up_rejects_a_malformed_bootstrap_value(up_dir: Path) -> None:
    result = run_cli("up", "no-port-here", up_dir)
    assert result.returncode == 1
    assert kafka_local.BOOTSTRAP_ENV in result.stderr


def test_cluster_ids_look_like_kafkas_random_uuid() -> None:
    ids = {kafka_local.new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)


def test_missing_tools_are_named_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("devenv.kafka_local.shutil.which", lambda _name: None)
    with pytest.raises(kafka_local.ToolMissingError) as caught:
        kafka_local.check_tools()
    message = str(caught.value)
    assert "java not found" in message
    assert "openjdk-17-jre-headless" in message
    assert "mvn not found" in message


def _exports(text: str) -> list[dict[str, str]]:
    """The `export NAME=value` blocks `up --secure` prints, one dict per listener."""
    blocks: list[dict[str, str]] = []
    for line in text.splitlines():
        if not line.startswith("  export "):
            if line.endswith(":"):
                blocks.append({})
            continue
        name, _, value = line.removeprefix("  export ").partition("=")
        blocks[-1][name] = value.strip("'")
    return blocks


def test_up_secure_prints_settings_that_produce_through_both_listeners(up_dir: Path) -> None:
    bootstrap = f"127.0.0.1:{kafka_local.free_port()}"
    started = run_cli("up", bootstrap, up_dir, "--secure")
    assert started.returncode == 0, started.stderr
    sasl, mtls = _exports(started.stdout)
    password = (up_dir / "tls" / "scram-password").read_text().strip()
    register_secret(password, "SCRAM password of `kafka_local.py up --secure`")
    record_output("kafka_local.py up --secure", started.stdout, started.stderr)
    assert password not in started.stdout + started.stderr
    assert (up_dir / "tls" / "scram-password").stat().st_mode & 0o077 == 0
    kafka_local.create_topics(bootstrap, {"secure-up": 1})
    for settings in (sasl, mtls):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROFILE_SYNC_")}
        env.update(settings)
        done = subprocess.run(
            [str(Path(sys.executable).with_name("profile-sync")), "produce", "--count", "5",
             "--topic", "secure-up"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        record_output("profile-sync produce (up --secure)", done.stdout, done.stderr)
        assert done.returncode == 0, done.stderr[-2000:]
        assert password not in done.stdout + done.stderr
    # a plaintext client of the secure port gets nowhere
    plain = AdminClient({"bootstrap.servers": sasl[kafka_local.BOOTSTRAP_ENV]})
    with pytest.raises(KafkaException):
        plain.list_topics(timeout=3)
    assert run_cli("down", bootstrap, up_dir).returncode == 0
