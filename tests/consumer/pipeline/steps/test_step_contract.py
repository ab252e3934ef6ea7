"""The contract every processing step keeps (consumer.pipeline.step.Step), checked on each of them.

1. Every record submitted ends exactly once downstream or in the dead-letter sink once the step
   is joined: nothing is lost, nothing duplicated.
2. A step that refuses a record (`MessageRejected`) keeps nothing of it; offered again later,
   the record goes through exactly once.
3. `poll` returns quickly when there is nothing to do; `close` releases without raising.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from consumer.pipeline.errors import MessageRejected
from consumer.pipeline.offsets import OffsetTracker, TopicPartitionKey
from consumer.pipeline.record import SourceRecord
from consumer.pipeline.step import Step
from consumer.pipeline.steps.commit import CommitStep
from consumer.pipeline.steps.decode import DecodeStep
from consumer.pipeline.steps.map import MapStep
from consumer.pipeline.steps.native_core import NativeCoreStep, Transformed
from consumer.pipeline.steps.validate import ValidateStep
from mappers.results import MapFailure, Upsert
from schemas.xdm import Violation
from tests.consumer.pipeline.delivery_harness import delivery
from tests.consumer.pipeline.fakes import (
    Collector,
    DeadLetters,
    FakeDecoder,
    ScriptedSender,
    make_record,
    reject,
)


@dataclass
class Case:
    step: Step
    good: list[SourceRecord]  # expected downstream
    bad: list[SourceRecord]  # expected in the dead-letter sink
    refused: SourceRecord  # refused once with MessageRejected, then accepted
    downstream: Callable[[], list[int]]
    dead: Callable[[], list[int]]
    prefill: list[SourceRecord] = field(default_factory=list)  # makes the step refuse


def _json(**fields: Any) -> bytes:
    return orjson.dumps(fields)


@contextmanager
def decode_case() -> Iterator[Case]:
    out, dead = Collector(), DeadLetters()
    step = DecodeStep(FakeDecoder(), out, dead)
    yield Case(
        step,
        good=[make_record(1, value=_json(id=1)), make_record(2, value=_json(id=2))],
        bad=[make_record(3, value=b"bad"), make_record(4, value=b"")],
        refused=make_record(5, value=b"transient"),
        downstream=lambda: out.offsets,
        dead=lambda: dead.offsets,
    )


class FakeMapper:
    def map_decoded(self, record_type: str, event: dict[str, Any]) -> Upsert | MapFailure:
        if event.get("bad"):
            return MapFailure("map.invalid_email", "invalid e-mail", ("customer.email",), 7)
        return Upsert(int(event["id"]), {"_id": str(event["id"])}, (1, 2))


class RefusingOnce(Collector):
    """Downstream that refuses its first record once (backpressure from further down)."""

    def __init__(self, offset: int) -> None:
        super().__init__()
        self._offset: int | None = offset

    def submit(self, record: SourceRecord) -> None:
        if record.offset == self._offset:
            self._offset = None
            raise MessageRejected("full")
        super().submit(record)


def _decoded(offset: int, **datum: Any) -> SourceRecord:
    record = make_record(offset)
    record.event_type = "CustomerUpdated"
    record.datum = datum
    return record


@contextmanager
def map_case() -> Iterator[Case]:
    out, dead = RefusingOnce(offset=5), DeadLetters()
    step = MapStep(FakeMapper(), out, dead)  # type: ignore[arg-type]
    yield Case(
        step,
        good=[_decoded(1, id=1), _decoded(2, id=2)],
        bad=[_decoded(3, bad=True)],
        refused=_decoded(5, id=5),
        downstream=lambda: out.offsets,
        dead=lambda: dead.offsets,
    )


class FakeCore:
    """Reads values starting with b"core:" (the customer id follows); None for the rest."""

    def transform(self, value: bytes) -> Transformed | None:
        if not value.startswith(b"core:"):
            return None
        customer = int(value[5:])
        return ("CustomerUpdated", customer, False, 1, 2, _json(_id=str(customer)), ())


@contextmanager
def native_core_case() -> Iterator[Case]:
    # As composed: what the core does not read takes the decode step, and both paths end at
    # the same step after validate.
    out, dead = RefusingOnce(offset=5), DeadLetters()
    step = NativeCoreStep(FakeCore(), DecodeStep(FakeDecoder(), out, dead), out, 200)
    yield Case(
        step,
        good=[make_record(1, value=b"core:1"), make_record(2, value=_json(id=2))],
        bad=[make_record(3, value=b"bad")],
        refused=make_record(5, value=b"core:5"),
        downstream=lambda: out.offsets,
        dead=lambda: dead.offsets,
    )


class FakeValidator:
    def validate(self, record: object) -> list[Violation]:
        assert isinstance(record, dict)
        return (
            [Violation("/personalEmail/address", "format", "must be an email")]
            if record.get("invalid")
            else []
        )


def _mapped(offset: int, **record: Any) -> SourceRecord:
    r = make_record(offset)
    r.customer_id = offset
    r.record = record
    return r


@contextmanager
def validate_case() -> Iterator[Case]:
    out, dead = RefusingOnce(offset=5), DeadLetters()
    step = ValidateStep(FakeValidator(), 200, out, dead)
    yield Case(
        step,
        good=[_mapped(1, _id="1"), _mapped(2, _id="2")],
        bad=[_mapped(3, invalid=True), _mapped(4, big="x" * 300)],
        refused=_mapped(5, _id="5"),
        downstream=lambda: out.offsets,
        dead=lambda: dead.offsets,
    )


@contextmanager
def batch_and_send_case() -> Iterator[Case]:
    refused_offsets = {3}
    sender = ScriptedSender(
        script=lambda r, _a: reject()(r) if r.offset in refused_offsets else None
    )
    with delivery(sender, max_in_flight=1, linger_s=60.0) as d:
        good = [make_record(o, customer=o) for o in (1, 2)]
        # Offsets 6 and 7: an older version superseded by the newer one (accounted, not sent).
        good += [make_record(6, customer=6, key=(1, 1)), make_record(7, customer=6, key=(2, 2))]
        yield Case(
            d.batch,
            good=good,
            bad=[make_record(3, customer=3)],
            refused=make_record(9, customer=9),  # never refused: the buffer bound is the source's
            downstream=lambda: d.accounted.offsets,
            dead=lambda: d.dead.offsets,
        )


class FakeCommitter:
    def __init__(self) -> None:
        self.stored: list[dict[TopicPartitionKey, int]] = []

    def store(self, positions: dict[TopicPartitionKey, int]) -> bool:
        self.stored.append(positions)
        return True


@contextmanager
def commit_case() -> Iterator[Case]:
    tracker = OffsetTracker()
    tracker.assign(("t", 0))
    for offset in range(1, 4):
        tracker.track(("t", 0), offset)
    committer = FakeCommitter()
    step = CommitStep(tracker, committer, interval_s=0)

    def committed() -> list[int]:
        position = tracker.position(("t", 0)) or 1
        return list(range(1, position))

    yield Case(
        step,
        good=[make_record(o) for o in (2, 1, 3)],
        bad=[],
        refused=make_record(9),  # the commit step never refuses (not checked)
        downstream=committed,
        dead=list,
    )


CASES = {
    "native core": native_core_case,
    "decode": decode_case,
    "map": map_case,
    "validate": validate_case,
    "batch+send": batch_and_send_case,
    "commit": commit_case,
}


def _submit(step: Step, record: SourceRecord) -> None:
    for _ in range(3):
        try:
            step.submit(record)
            return
        except MessageRejected:
            step.join(1.0)  # as time passes (linger), the step makes room
    pytest.fail(f"{record!r} refused three times")


@pytest.mark.parametrize("name", list(CASES))
def test_every_record_ends_exactly_once_downstream_or_dead_lettered(name: str) -> None:
    with CASES[name]() as case:
        for record in case.good + case.bad:
            _submit(case.step, record)
        assert case.step.join(5.0)
        case.step.poll()
        assert sorted(case.downstream()) == sorted(r.offset for r in case.good)
        assert sorted(case.dead()) == sorted(r.offset for r in case.bad)
        case.step.close()


@pytest.mark.parametrize("name", [n for n in CASES if n not in ("commit", "batch+send")])
def test_a_refused_record_is_kept_nowhere_and_goes_through_when_offered_again(name: str) -> None:
    with CASES[name]() as case:
        record = case.refused
        for earlier in case.prefill:
            case.step.submit(earlier)
        with pytest.raises(MessageRejected):
            case.step.submit(record)
        assert record.offset not in case.downstream()
        assert record.offset not in case.dead()
        assert case.step.join(5.0)  # the step drains what it holds...
        case.step.submit(record)  # ...and then takes the record
        assert case.step.join(5.0)
        assert case.downstream().count(record.offset) == 1


@pytest.mark.parametrize("name", list(CASES))
def test_poll_is_quick_when_idle_and_close_does_not_raise(name: str) -> None:
    with CASES[name]() as case:
        started = time.monotonic()
        for _ in range(100):
            case.step.poll()
        assert time.monotonic() - started < 0.5
        case.step.close()


class FailingCommitter(FakeCommitter):
    """`store_offsets` fails (for example the partition was just revoked) until `healthy`."""

    healthy = False

    def store(self, positions: dict[TopicPartitionKey, int]) -> bool:
        super().store(positions)
        return self.healthy


def test_positions_whose_store_failed_are_offered_again() -> None:
    tracker = OffsetTracker()
    tracker.assign(("t", 0))
    tracker.track(("t", 0), 5)
    committer = FailingCommitter()
    step = CommitStep(tracker, committer, interval_s=0)
    step.submit(make_record(5))
    step.poll()
    committer.healthy = True
    step.poll()
    assert committer.stored == [{("t", 0): 6}, {("t", 0): 6}]
    step.poll()  # stored now: not offered again
    assert len(committer.stored) == 2
