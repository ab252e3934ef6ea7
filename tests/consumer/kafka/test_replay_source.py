"""The replay consumer beside the source (docs/DESIGN.md §12), with scripted consumers that write
one shared journal: replay partition p follows source partition p in, goes out before it (after
both are committed), a lost partition commits nothing, and replayed records carry their
provenance into the pipeline."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from confluent_kafka import TopicPartition

from consumer.kafka.source import KafkaSource, ReplayFeed, TopicCommitters
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import StopConsumer
from consumer.pipeline.offsets import OffsetTracker, TopicPartitionKey
from consumer.pipeline.record import Replay, SourceRecord

SOURCE, REPLAY = "orders", "orders.replay"


class Message:
    def __init__(self, topic: str, partition: int, offset: int, headers: list[tuple[str, bytes]]):
        self._coords = (topic, partition, offset)
        self._headers = headers

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return self._coords[0]

    def partition(self) -> int:
        return self._coords[1]

    def offset(self) -> int:
        return self._coords[2]

    def key(self) -> bytes:
        return b"7"

    def value(self) -> bytes:
        return b"v"

    def headers(self) -> list[tuple[str, bytes]]:
        return self._headers

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_000)


class Consumer:
    def __init__(self, name: str, journal: list[str]) -> None:
        self.name = name
        self.journal = journal
        self.queued: list[Message] = []
        self.assigned: set[int] = set()
        self.closed = False

    def consume(self, num: int, timeout: float) -> list[Message]:
        taken = [m for m in self.queued if m.partition() in self.assigned][:num]
        self.queued = [m for m in self.queued if m not in taken]
        return taken

    def incremental_assign(self, partitions: list[TopicPartition]) -> None:
        assert not self.closed
        self.assigned |= {p.partition for p in partitions}
        self.journal.append(f"{self.name} assign {sorted(p.partition for p in partitions)}")

    def incremental_unassign(self, partitions: list[TopicPartition]) -> None:
        assert not self.closed
        self.assigned -= {p.partition for p in partitions}
        self.journal.append(f"{self.name} unassign {sorted(p.partition for p in partitions)}")

    def pause(self, partitions: list[TopicPartition]) -> None:
        pass

    def resume(self, partitions: list[TopicPartition]) -> None:
        pass

    def close(self) -> None:
        self.closed = True
        self.journal.append(f"{self.name} close")


class Committer:
    def __init__(self, name: str, journal: list[str]) -> None:
        self.name, self.journal = name, journal

    def store(self, positions: dict[TopicPartitionKey, int]) -> bool:
        return True

    def commit_sync(self, positions: dict[TopicPartitionKey, int]) -> bool:
        self.journal.append(f"{self.name} commit {sorted(positions.items())}")
        return True


class Pipeline:
    """Accounts for every record at once; remembers what it was given."""

    def __init__(self, journal: list[str]) -> None:
        self.tracker = OffsetTracker()
        self.journal = journal
        self.records: list[SourceRecord] = []

    def track(self, tp: TopicPartitionKey, offset: int) -> bool:
        return self.tracker.track(tp, offset)

    def submit(self, record: SourceRecord) -> None:
        self.records.append(record)
        self.tracker.accounted((record.topic, record.partition), record.offset)

    def poll(self) -> None: ...
    def room(self) -> int:
        return 100

    def buffered_records(self) -> int:
        return 0

    def busy(self) -> bool:
        return False

    def backing_off(self) -> frozenset[TopicPartitionKey]:
        return frozenset()

    def owned(self) -> list[TopicPartitionKey]:
        return self.tracker.owned()

    def assign(self, partitions: list[TopicPartitionKey]) -> None:
        for tp in partitions:
            self.tracker.assign(tp)

    def revoke(self, partitions: list[TopicPartitionKey]) -> int:
        self.journal.append(f"revoke {sorted(partitions)}")
        return 0

    def unsettled(self, partitions: list[TopicPartitionKey]) -> bool:
        return False

    def wait(self, timeout: float) -> None: ...
    def positions(self, partitions: Iterable[TopicPartitionKey]) -> dict[TopicPartitionKey, int]:
        return {tp: p for tp in partitions if (p := self.tracker.position(tp)) is not None}

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None:
        partitions = list(partitions)
        for tp in partitions:
            self.tracker.forget(tp)
        self.journal.append(f"forget {sorted(partitions)}")

    def close(self) -> None: ...


def _build(
    journal: list[str], source: Consumer, pipeline: Pipeline, replay: Consumer | None = None
) -> KafkaSource:
    committers = {SOURCE: Committer("source", journal)}
    if replay is not None:
        committers[REPLAY] = Committer("replay", journal)
    return KafkaSource(
        source,  # type: ignore[arg-type]
        SOURCE,
        pipeline,
        committer=TopicCommitters(committers),
        metrics=Metrics(),
        revoke_timeout_s=1,
        replay=None if replay is None else ReplayFeed(replay, REPLAY),  # type: ignore[arg-type]
    )


def _source() -> tuple[KafkaSource, Consumer, Consumer, Pipeline, list[str]]:
    journal: list[str] = []
    source, replay = Consumer("source", journal), Consumer("replay", journal)
    pipeline = Pipeline(journal)
    return _build(journal, source, pipeline, replay), source, replay, pipeline, journal


def _tps(topic: str, *partitions: int) -> list[TopicPartition]:
    return [TopicPartition(topic, p) for p in partitions]


def test_replay_partitions_follow_the_source_in_and_leave_before_it_after_both_commits() -> None:
    kafka, source, replay, pipeline, journal = _source()
    kafka._on_assign(source, _tps(SOURCE, 0, 1))  # type: ignore[arg-type]
    assert journal == ["source assign [0, 1]", "replay assign [0, 1]"]
    source.queued = [Message(SOURCE, 1, 40, [])]
    replay.queued = [Message(REPLAY, 1, 3, [("profile_sync.source.offset", b"12")])]
    kafka._tick()
    journal.clear()
    kafka._on_revoke(source, _tps(SOURCE, 1))  # type: ignore[arg-type]
    assert journal == [
        f"revoke [('{SOURCE}', 1), ('{REPLAY}', 1)]",
        f"source commit [(('{SOURCE}', 1), 41)]",
        f"replay commit [(('{REPLAY}', 1), 4)]",
        f"forget [('{SOURCE}', 1), ('{REPLAY}', 1)]",
        "replay unassign [1]",
        "source unassign [1]",
    ]
    assert replay.assigned == source.assigned == {0}
    assert sorted(pipeline.owned()) == [(SOURCE, 0), (REPLAY, 0)]


def test_lost_partitions_commit_nothing_and_shutdown_closes_the_replay_consumer_first() -> None:
    kafka, source, _replay, _pipeline, journal = _source()
    kafka._on_assign(source, _tps(SOURCE, 0, 1))  # type: ignore[arg-type]
    journal.clear()
    kafka._on_lost(source, _tps(SOURCE, 0))  # type: ignore[arg-type]
    assert not [line for line in journal if "commit" in line]
    assert journal[-2:] == ["replay unassign [0]", "source unassign [0]"]
    journal.clear()
    kafka.shutdown()
    assert journal[-2:] == ["replay close", "source close"]
    # The group's last revoke runs inside the source consumer's close (still open then): it
    # finds nothing to unassign on the closed replay consumer.
    source.closed = False
    kafka._on_revoke(source, _tps(SOURCE, 1))  # type: ignore[arg-type]
    assert journal[-1] == "source unassign [1]"


def test_replayed_records_carry_their_provenance_and_lose_its_headers() -> None:
    kafka, source, replay, pipeline, _ = _source()
    kafka._on_assign(source, _tps(SOURCE, 2))  # type: ignore[arg-type]
    replay.queued = [
        Message(
            REPLAY,
            2,
            0,
            [
                ("traceparent", b"00-ab"),
                ("profile_sync.replay.id", b"r-1"),
                ("profile_sync.source.topic", SOURCE.encode()),
                ("profile_sync.source.partition", b"2"),
                ("profile_sync.source.offset", b"917"),
            ],
        )
    ]
    source.queued = [Message(SOURCE, 2, 918, [("traceparent", b"00-cd")])]
    kafka._tick()
    replayed, live = sorted(pipeline.records, key=lambda r: r.topic != REPLAY)
    assert replayed.replay == Replay((SOURCE, 2, 917), replay_id="r-1")
    assert replayed.headers == [("traceparent", b"00-ab")]
    assert replayed.source_offset == 917
    assert replayed.source_coordinates == (SOURCE, 2, 917)
    assert live.replay is None
    assert live.source_offset == 918


class LeavingConsumer(Consumer):
    """A source consumer whose `close()` runs the group's late callbacks, as librdkafka does when
    a cooperative rebalance finishes while the member leaves: one more assignment, then the
    revoke of everything it holds."""

    def __init__(self, name: str, journal: list[str], late: list[int]) -> None:
        super().__init__(name, journal)
        self.late = late
        self.kafka: KafkaSource | None = None

    def close(self) -> None:
        assert self.kafka is not None
        self.kafka._on_assign(self, _tps(SOURCE, *self.late))  # type: ignore[arg-type]
        self.kafka._on_revoke(self, _tps(SOURCE, *sorted(self.assigned)))  # type: ignore[arg-type]
        super().close()


def _leaving_source(late: list[int]) -> tuple[KafkaSource, LeavingConsumer, list[str]]:
    journal: list[str] = []
    source = LeavingConsumer("source", journal, late)
    kafka = _build(journal, source, Pipeline(journal), Consumer("replay", journal))
    source.kafka = kafka
    return kafka, source, journal


def test_an_assignment_inside_close_is_handed_back_untouched() -> None:
    kafka, source, journal = _leaving_source(late=[2, 3])
    kafka._on_assign(source, _tps(SOURCE, 0))  # type: ignore[arg-type]
    source.queued = [Message(SOURCE, 0, 7, [])]
    kafka._tick()
    journal.clear()
    kafka.shutdown()  # the scripted replay consumer fails the test if it is used once closed
    assert "source assign [2, 3]" in journal
    assert "replay assign [2, 3]" not in journal
    commits = [line for line in journal if "commit" in line]
    assert commits == [f"source commit [(('{SOURCE}', 0), 8)]"]
    assert source.assigned == set()
    assert kafka._pipeline.owned() == []


class FailingPipeline(Pipeline):
    def assign(self, partitions: list[TopicPartitionKey]) -> None:
        raise RuntimeError("state store unreadable")


def test_a_fault_in_the_assign_callback_stays_out_of_librdkafka_and_stops_the_loop() -> None:
    journal: list[str] = []
    source = Consumer("source", journal)
    kafka = _build(journal, source, FailingPipeline(journal))
    kafka._on_assign(source, _tps(SOURCE, 0))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="state store unreadable"):
        kafka._tick()


class DeadLetterFailingPipeline(Pipeline):
    def poll(self) -> None:
        raise StopConsumer("dead-letter write failed", 1)

    def unsettled(self, partitions: list[TopicPartitionKey]) -> bool:
        return True


def test_a_fault_in_the_last_drain_is_raised_after_the_member_left_the_group() -> None:
    journal: list[str] = []
    source = Consumer("source", journal)
    kafka = _build(journal, source, DeadLetterFailingPipeline(journal))
    kafka._on_assign(source, _tps(SOURCE, 0))  # type: ignore[arg-type]
    with pytest.raises(StopConsumer, match="dead-letter write failed"):
        kafka.shutdown()
    assert journal[-1] == "source close"


class BrokenReplayConsumer(Consumer):
    def incremental_unassign(self, partitions: list[TopicPartition]) -> None:
        raise RuntimeError("replay consumer gone")


def test_a_fault_in_the_revoke_callback_stays_out_of_librdkafka_and_stops_the_loop() -> None:
    journal: list[str] = []
    source, replay = Consumer("source", journal), BrokenReplayConsumer("replay", journal)
    kafka = _build(journal, source, Pipeline(journal), replay)
    kafka._on_assign(source, _tps(SOURCE, 0))  # type: ignore[arg-type]
    kafka._on_revoke(source, _tps(SOURCE, 0))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="replay consumer gone"):
        kafka._tick()
