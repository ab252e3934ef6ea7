"""The stale-update guard inside the poll loop, with a scripted consumer and sender: a partition
stays paused while its store is restored, a stale record is committed without being sent, an
accepted record is committed only after its mark is acknowledged (a revoke waits for it), and a
revoked partition's store is closed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consumer.kafka.changelog import ChangelogWriter
from consumer.kafka.dead_letters import DeadLetterProducer
from consumer.kafka.source import KafkaCommitter, KafkaSource
from consumer.observability.metrics import Metrics
from consumer.pipeline.compose import Pipeline
from consumer.pipeline.state.mark import decode_mark
from consumer.pipeline.state.ports import MarkSink
from consumer.pipeline.state.store import StateStores
from consumer.pipeline.step import Step
from tests.consumer.pipeline.fakes import TOPIC, ScriptedSender, http_portal
from tests.consumer.scripted_kafka import (
    FAST,
    DeadLetterBroker,
    JsonDecoder,
    KeyMapper,
    Message,
    NoViolations,
    ScriptedConsumer,
    value,
)


class ManualState:
    """Stores restored when the test says so."""

    def __init__(self, stores: StateStores) -> None:
        self.stores = stores
        self._restoring: set[int] = set()
        self._done: list[int] = []
        self.released_partitions: list[int] = []

    def assigned(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self.stores.open(partition)
            self._restoring.add(partition)

    def finish(self, partition: int) -> None:
        self._restoring.discard(partition)
        self.stores.mark_ready(partition)
        self._done.append(partition)

    def restoring(self) -> set[int]:
        return set(self._restoring)

    def tick(self) -> list[int]:
        done, self._done = self._done, []
        return done

    def released(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self.released_partitions.append(partition)
            self._restoring.discard(partition)
            self.stores.close(partition)

    def close(self) -> None:
        self.stores.close_all()


class ChangelogBroker:
    """A changelog producer whose writes are acknowledged only when the test says so."""

    def __init__(self) -> None:
        self.written: list[tuple[int, bytes | None, bytes | None]] = []
        self._waiting: list[Callable[[Any, Any], None]] = []
        self.acknowledging = False

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                partition: int = -1, *, on_delivery: Any = None) -> None:  # fmt: skip
        self.written.append((partition, key, value))
        self._waiting.append(on_delivery)

    def poll(self, timeout: float) -> int:
        if not self.acknowledging:
            return 0
        done, self._waiting = self._waiting, []
        for offset, callback in enumerate(done):
            callback(None, _Acked(offset))
        return len(done)

    def flush(self, timeout: float) -> int:
        self.poll(0)
        return len(self._waiting)


class _Acked:
    def __init__(self, offset: int) -> None:
        self._offset = offset

    def offset(self) -> int:
        return self._offset


@dataclass
class GuardedStack:
    source: KafkaSource
    consumer: ScriptedConsumer
    sender: ScriptedSender
    state: ManualState
    changelog: ChangelogBroker
    metrics: Metrics

    def ticks(self, count: int = 20) -> None:
        for _ in range(count):
            self.source._tick()


@contextmanager
def guarded_stack(tmp_path: Path) -> Iterator[GuardedStack]:
    with http_portal() as portal:
        consumer = ScriptedConsumer()
        metrics = Metrics()
        committer = KafkaCommitter(consumer, metrics, True)  # type: ignore[arg-type]
        stores = StateStores(tmp_path, "g.state")
        state = ManualState(stores)
        changelog = ChangelogBroker()
        sender = ScriptedSender()

        def marks(accounted: Step) -> MarkSink:
            return ChangelogWriter(changelog, "g.state", stores, accounted, metrics)

        pipeline = Pipeline(
            decoder=JsonDecoder(),
            mapper=KeyMapper(),  # type: ignore[arg-type]
            validator=NoViolations(),
            sender=sender,
            portal=portal,
            dead_letters=lambda accounted: DeadLetterProducer(
                DeadLetterBroker(), "dlq", accounted, metrics
            ),
            committer=committer,
            limits=FAST,
            metrics=metrics,
            state=state,
            marks=marks,
        )
        source = KafkaSource(
            consumer,  # type: ignore[arg-type]
            TOPIC,
            pipeline,
            committer=committer,
            metrics=metrics,
            revoke_timeout_s=2.0,
        )
        consumer.subscribe(
            [TOPIC],
            on_assign=source._on_assign,
            on_revoke=source._on_revoke,
            on_lost=source._on_lost,
        )
        yield GuardedStack(source, consumer, sender, state, changelog, metrics)
        state.close()


def _wait(stack: GuardedStack, condition: Callable[[], bool], turns: int = 400) -> None:
    for _ in range(turns):
        if condition():
            return
        stack.source._tick()
    raise AssertionError("condition not reached")


def test_a_partition_stays_paused_until_its_store_is_restored(tmp_path: Path) -> None:
    with guarded_stack(tmp_path) as stack:
        stack.consumer.assign(0)
        assert stack.consumer.paused == {0}
        stack.consumer.script.append([Message(0, 0, value(7, 5))])
        stack.ticks()
        assert stack.sender.requests == []
        stack.state.finish(0)
        _wait(stack, lambda: len(stack.sender.accepted) == 1)
        assert stack.consumer.paused == set()


def test_a_stale_record_is_committed_without_being_sent(tmp_path: Path) -> None:
    with guarded_stack(tmp_path) as stack:
        stack.consumer.assign(0)
        store = stack.state.stores.opened(0)
        assert store is not None
        store.put(7, (50, 50, 99))  # a newer version was accepted earlier
        stack.state.finish(0)
        stack.consumer.script.append([Message(0, 0, value(7, 40))])
        _wait(stack, lambda: stack.consumer.last_position(0) == 1)
        assert stack.sender.requests == []
        assert stack.changelog.written == []


def test_an_accepted_record_is_committed_only_once_its_mark_is_acknowledged(
    tmp_path: Path,
) -> None:
    with guarded_stack(tmp_path) as stack:
        stack.consumer.assign(0, 1)
        stack.state.finish(0)
        stack.state.finish(1)
        stack.consumer.script.append([Message(1, 0, value(7, 60)), Message(1, 1, value(8, 61))])
        _wait(stack, lambda: len(stack.sender.accepted) == 2)
        stack.ticks(50)
        assert stack.consumer.last_position(1) is None  # accepted, mark unacknowledged
        written = sorted(stack.changelog.written)
        assert [(p, k) for p, k, _ in written] == [(1, b"7"), (1, b"8")]
        assert decode_mark(written[0][2] or b"") == (60, 60, 0)
        # The revoke waits for the acknowledgements, then commits past both.
        stack.changelog.acknowledging = True
        stack.consumer.revoke(1)
        assert stack.consumer.committed[-1] == (1, 2)
        assert stack.state.released_partitions == [1]
        assert stack.state.stores.opened(1) is None
        assert stack.state.stores.get(0) is not None
