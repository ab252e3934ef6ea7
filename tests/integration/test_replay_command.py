"""`profile-sync replay` against the real broker: the window resolved by time, the dry run,
the copy with its provenance headers, input errors, and a copy killed half-way and run again."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from devenv.kafka_local import Broker
from tests.integration.ops_support import (
    PROFILE_SYNC,
    Written,
    clean_env,
    create_topic,
    headers_of,
    produce_records,
    read_all,
)
from tests.integration.run_support import end_offsets
from tests.support.cli import cli, json_lines
from tests.support.kafka import TopicFactory

MINUTE_MS = 60_000
AGES_MIN = (240, 180, 120, 60, 30)  # record ages; every test window falls between them


@dataclass
class Source:
    bootstrap: str
    topic: str
    replay_topic: str
    now_ms: int
    written: list[Written]

    @property
    def env(self) -> dict[str, str]:
        return {
            "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "PROFILE_SYNC_TOPIC": self.topic,
        }

    def iso(self, age_min: float) -> str:
        moment = time.gmtime((self.now_ms - age_min * MINUTE_MS) / 1000)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", moment)

    def between(self, oldest_min: float, newest_min: float) -> list[Written]:
        low = self.now_ms - oldest_min * MINUTE_MS
        high = self.now_ms - newest_min * MINUTE_MS
        return [w for w in self.written if low <= w.timestamp_ms < high]


def _fill(bootstrap: str, topic: str, per_age: int) -> tuple[int, list[Written]]:
    now = int(time.time() * 1000)
    records = []
    for age in AGES_MIN:
        for i in range(per_age):
            customer = f"{1000 + i % 7}"
            headers = [("traceparent", f"00-{age:032x}-{i:016x}-01".encode()), ("origin", None)]
            value = f"value-{age}-{i}".encode()
            records.append((i % 3, customer.encode(), value, headers, now - age * MINUTE_MS))
    return now, produce_records(bootstrap, topic, records)


@pytest.fixture
def source(kafka_broker: Broker, make_topics: TopicFactory) -> Iterator[Source]:
    topics = make_topics(partitions=3, dlq=False, replay=False)
    replay_topic = create_topic(kafka_broker.bootstrap, f"{topics.name}.replay", 3)
    now, written = _fill(kafka_broker.bootstrap, topics.name, per_age=30)
    return Source(kafka_broker.bootstrap, topics.name, replay_topic, now, written)


def _coords(records: list[Written]) -> set[tuple[int, int]]:
    return {(w.partition, w.offset) for w in records}


def _provenance(message: object) -> tuple[str, int, int]:
    h = headers_of(message)
    return (
        h["profile_sync.source.topic"],
        int(h["profile_sync.source.partition"]),
        int(h["profile_sync.source.offset"]),
    )


def test_dry_run_shows_offsets_and_counts_per_partition_and_writes_nothing(
    source: Source,
) -> None:
    window = source.between(150, 90)
    assert len(window) == 30
    result = cli(source.env, "replay", "--from", "150m", "--to", "90m", "--json")
    assert result.exit_code == 0, result.stderr
    rows = json_lines(result.stdout)
    assert [r["partition"] for r in rows] == [0, 1, 2]
    for row in rows:
        mine = sorted(w.offset for w in window if w.partition == row["partition"])
        assert row["records"] == len(mine)
        assert (row["start_offset"], row["end_offset"]) == (mine[0], mine[-1] + 1)
        assert row["copied"] == 0
        assert row["executed"] is False
    table = cli(source.env, "replay", "--from", source.iso(150), "--to", source.iso(90))
    assert table.exit_code == 0
    assert "dry run" in table.stdout
    assert "30 records" in table.stdout
    assert read_all(source.bootstrap, source.replay_topic) == []


def test_execute_copies_exactly_the_window_with_provenance_and_never_writes_the_source(
    source: Source,
) -> None:
    before = end_offsets(source.bootstrap, source.topic, 3)
    window = source.between(150, 50)
    result = cli(
        source.env, "replay", "--from", source.iso(150), "--to", "50m", "--execute", "--json"
    )
    assert result.exit_code == 0, result.stderr
    rows = json_lines(result.stdout)
    assert sum(r["copied"] for r in rows) == sum(r["records"] for r in rows) == len(window)
    replay_id = rows[0]["replay_id"]
    assert "done" in result.stderr  # the plain progress line when stderr is no terminal
    copies = read_all(source.bootstrap, source.replay_topic)
    by_coords = {(w.partition, w.offset): w for w in source.written}
    seen = set()
    for message in copies:
        topic, partition, offset = _provenance(message)
        assert topic == source.topic
        assert message.partition() == partition
        original = by_coords[(partition, offset)]
        assert message.key() == original.key
        assert message.value() == original.value
        headers = message.headers()
        assert headers[: len(original.headers)] == list(original.headers)
        assert headers_of(message)["profile_sync.replay.id"] == replay_id
        seen.add((partition, offset))
    assert len(copies) == len(seen) == len(window)
    assert seen == _coords(window)
    assert end_offsets(source.bootstrap, source.topic, 3) == before


def test_partition_and_customer_select_within_the_window(source: Source) -> None:
    chosen = [
        w for w in source.between(200, 0) if w.partition in (0, 2) and w.key in (b"1001", b"1003")
    ]
    assert chosen
    args = [
        "replay",
        "--from",
        "200m",
        "--partition",
        "0",
        "--partition",
        "2",
        "--customer",
        "1001",
        "--customer",
        "1003",
        "--json",
    ]
    rows = json_lines(cli(source.env, *args).stdout)
    assert {r["partition"]: r["records"] for r in rows} == {
        0: sum(w.partition == 0 for w in chosen),
        2: sum(w.partition == 2 for w in chosen),
    }
    result = cli(source.env, *args, "--execute")
    assert result.exit_code == 0, result.stderr
    copies = read_all(source.bootstrap, source.replay_topic)
    assert {_provenance(m)[1:] for m in copies} == _coords(chosen)
    assert len(copies) == len(chosen)


def test_an_empty_window_prints_zero_counts_and_exits_0(source: Source) -> None:
    for args in (["--from", "10m"], ["--from", "50m", "--to", "40m"]):
        result = cli(source.env, "replay", *args, "--json", "--execute")
        assert result.exit_code == 0, result.stderr
        rows = json_lines(result.stdout)
        assert len(rows) == 3
        assert all(r["records"] == 0 and r["copied"] == 0 for r in rows)
    assert read_all(source.bootstrap, source.replay_topic) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "yesterday"], "neither an ISO-8601 time"),
        (["--from", "2026-12-01T10:00:00"], "needs a UTC offset"),
        (["--from", "1h", "--to", "2h"], "must be after --from"),
        (["--from", "1h", "--partition", "3"], "has partitions 0 to 2"),
        (["--from", "1h", "--rate", "0"], "--rate"),
        ([], "--from"),
    ],
)
def test_bad_input_exits_2_with_a_message(source: Source, args: list[str], message: str) -> None:
    result = cli(source.env, "replay", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_missing_replay_topic_exits_2_naming_it(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=2, dlq=False, replay=False)
    env = {
        "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap,
        "PROFILE_SYNC_TOPIC": topics.name,
    }
    result = cli(env, "replay", "--from", "1h")
    assert result.exit_code == 2
    assert (
        f"PROFILE_SYNC_REPLAY_TOPIC: topic '{topics.name}.replay' does not exist" in result.stderr
    )
    result = cli({**env, "PROFILE_SYNC_REPLAY_TOPIC": "elsewhere"}, "replay", "--from", "1h")
    assert result.exit_code == 2
    assert "PROFILE_SYNC_REPLAY_TOPIC: topic 'elsewhere' does not exist" in result.stderr
    create_topic(kafka_broker.bootstrap, f"{topics.name}.replay", 3)
    result = cli(env, "replay", "--from", "1h")
    assert result.exit_code == 2
    assert "has 3 partitions, the source topic" in result.stderr
    result = cli({**env, "PROFILE_SYNC_TOPIC": "no.source"}, "replay", "--from", "1h")
    assert result.exit_code == 2
    assert "PROFILE_SYNC_TOPIC: topic 'no.source' does not exist" in result.stderr


def test_a_replay_killed_mid_copy_completes_when_run_again(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=3, dlq=False, replay=False)
    replay_topic = create_topic(kafka_broker.bootstrap, f"{topics.name}.replay", 3)
    _now, written = _fill(kafka_broker.bootstrap, topics.name, per_age=120)
    env = clean_env(
        {
            "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap,
            "PROFILE_SYNC_TOPIC": topics.name,
        }
    )
    command = [PROFILE_SYNC, "replay", "--from", "5h", "--execute", "--json"]
    first = subprocess.Popen(
        [*command, "--rate", "100"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while sum(end_offsets(kafka_broker.bootstrap, replay_topic, 3).values()) < 60:
            assert first.poll() is None, "the replay ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    partial = read_all(kafka_broker.bootstrap, replay_topic)
    assert 60 <= len(partial) < len(written)

    second = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert second.returncode == 0, second.stderr
    rows = json_lines(second.stdout)
    assert sum(r["copied"] for r in rows) == len(written)
    copies = read_all(kafka_broker.bootstrap, replay_topic)
    by_run = Counter(headers_of(m)["profile_sync.replay.id"] for m in copies)
    assert by_run[rows[0]["replay_id"]] == len(written)
    rerun = {
        _provenance(m)[1:]
        for m in copies
        if headers_of(m)["profile_sync.replay.id"] == rows[0]["replay_id"]
    }
    assert rerun == _coords(written)
