"""Batching and supersession (docs/DESIGN.md §6), through the send step and a scripted sender."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from consumer.aep.protocol import (
    AepConfigurationFault,
    AepProtocolError,
    OutgoingRecord,
    Rejected,
    RetryMessage,
    SendResult,
)
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import StopConsumer
from consumer.pipeline.lanes import CustomerLanes
from consumer.pipeline.record import SourceRecord
from consumer.pipeline.steps.batch import BatchStep
from tests.consumer.pipeline.delivery_harness import delivery
from tests.consumer.pipeline.fakes import (
    Collector,
    ScriptedSender,
    make_record,
    retry_first,
    too_large_over,
)


def test_batches_are_bounded_by_record_count() -> None:
    sender = ScriptedSender()
    with delivery(sender, max_records=3, linger_s=60) as d:
        for offset in range(7):
            d.batch.submit(make_record(offset, customer=offset))
        d.drain()
    assert [len(r) for r in sender.requests] == [3, 3, 1]
    assert sorted(d.accounted.offsets) == list(range(7))


def test_batches_are_bounded_by_request_bytes_envelope_included() -> None:
    sender = ScriptedSender()
    entity = b"x" * 899  # 899 + 100 envelope + 1 comma = 1000 bytes per message
    limit = 13 + 3 * 1000 - 1
    with delivery(sender, max_request_bytes=limit, linger_s=0) as d:
        for offset in range(7):
            d.batch.submit(make_record(offset, customer=offset, entity=entity))
        d.drain()
    assert [len(r) for r in sender.requests] == [3, 3, 1]
    for request in sender.requests:
        outgoing = [type("O", (), {"entity_json": r.entity_json})() for r in request]
        assert sender.request_size(outgoing) <= limit  # type: ignore[arg-type]


@dataclass
class GatedSender(ScriptedSender):
    """Holds every request until `gate` is set: requests stay in flight as long as a test
    needs, without timing."""

    gate: threading.Event = field(default_factory=threading.Event)

    async def send(self, records: Sequence[OutgoingRecord]) -> SendResult:
        while not self.gate.is_set():
            await asyncio.sleep(0.001)
        return await super().send(records)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_lone_record_is_sent_at_once_when_nothing_is_in_flight() -> None:
    sender = GatedSender()
    clock = FakeClock()
    with delivery(sender, max_records=100, linger_s=60, clock=clock) as d:
        d.batch.submit(make_record(1, customer=1))
        d.batch.poll()  # no time passes: the linger is not waited for
        assert d.send.requests_in_flight() == 1
        assert d.lanes.in_flight() == 1
        assert d.lanes.buffered() == 0
        sender.gate.set()
        d.settle()
    assert [[r.offset for r in req] for req in sender.requests] == [[1]]


def test_records_gather_while_a_request_is_in_flight_and_go_when_it_is_answered() -> None:
    sender = GatedSender()
    clock = FakeClock()
    with delivery(sender, max_records=100, linger_s=60, clock=clock) as d:
        d.batch.submit(make_record(1, customer=1))
        d.batch.poll()
        for offset in range(2, 6):
            d.batch.submit(make_record(offset, customer=offset))
            d.batch.poll()
        assert d.send.requests_in_flight() == 1
        assert d.lanes.buffered() == 4
        sender.gate.set()
        d.settle()
    assert [[r.offset for r in req] for req in sender.requests] == [[1], [2, 3, 4, 5]]


def test_linger_is_an_upper_bound_on_the_wait_while_requests_are_in_flight() -> None:
    sender = GatedSender()
    clock = FakeClock()
    with delivery(sender, max_records=100, linger_s=0.2, clock=clock) as d:
        d.batch.submit(make_record(1, customer=1))
        d.batch.poll()
        d.batch.submit(make_record(2, customer=2))
        clock.now += 0.19
        d.batch.poll()
        assert d.send.requests_in_flight() == 1  # record 2 gathers behind record 1
        clock.now += 0.02
        d.batch.poll()
        assert d.send.requests_in_flight() == 2  # waited `linger_s`: it goes anyway
        sender.gate.set()
        d.settle()
    assert sorted([r.offset for r in req] for req in sender.requests) == [[1], [2]]


def test_a_full_batch_goes_while_requests_are_in_flight() -> None:
    sender = GatedSender()
    clock = FakeClock()
    with delivery(sender, max_records=3, linger_s=60, max_in_flight=4, clock=clock) as d:
        d.batch.submit(make_record(0, customer=0))
        d.batch.poll()
        for offset in range(1, 8):
            d.batch.submit(make_record(offset, customer=offset))
            d.batch.poll()
        # 0 alone, then two full batches while it is in flight; 7 gathers.
        assert d.send.requests_in_flight() == 3
        assert d.lanes.buffered() == 1
        sender.gate.set()
        d.settle()
    assert sorted(len(req) for req in sender.requests) == [1, 1, 3, 3]
    assert sorted(d.accounted.offsets) == list(range(8))


def test_a_backlog_closed_by_the_byte_bound_is_sent_whole_while_requests_are_in_flight() -> None:
    sender = GatedSender()
    clock = FakeClock()
    entity = b"x" * 899  # 1000 bytes per message: two fit in a request
    limit = 13 + 2 * 1000 - 1
    with delivery(
        sender, max_records=4, max_request_bytes=limit, linger_s=60, max_in_flight=8, clock=clock
    ) as d:
        d.batch.submit(make_record(0, customer=0, entity=entity))
        d.batch.poll()
        for offset in range(1, 5):
            d.batch.submit(make_record(offset, customer=offset, entity=entity))
        # Four ready (a full count) while 0 is in flight: cut by bytes into 2 + 2, both sent.
        assert d.send.requests_in_flight() == 3
        assert d.lanes.buffered() == 0
        sender.gate.set()
        d.settle()
    assert sorted(len(req) for req in sender.requests) == [1, 2, 2]
    for request in sender.requests:
        outgoing = [type("O", (), {"entity_json": r.entity_json})() for r in request]
        assert sender.request_size(outgoing) <= limit  # type: ignore[arg-type]


def test_only_the_newest_record_per_customer_is_sent_and_the_rest_are_superseded() -> None:
    sender = ScriptedSender()
    with delivery(sender, linger_s=60) as d:
        d.batch.submit(make_record(1, customer=7, key=(100, 1)))
        d.batch.submit(make_record(2, customer=7, key=(300, 1)))
        d.batch.submit(make_record(3, customer=7, key=(200, 1)))
        d.batch.submit(make_record(4, customer=8, key=(100, 1)))
        d.drain()
    assert [[r.offset for r in req] for req in sender.requests] == [[2, 4]]
    assert sorted(d.accounted.offsets) == [1, 2, 3, 4]
    assert d.dead.items == []


def test_a_refused_superseder_is_dead_lettered_and_the_newest_superseded_one_is_sent() -> None:
    def script(record: SourceRecord, _attempt: int) -> Rejected | None:
        if record.offset == 3:
            return Rejected(record, 400, {"message": "[redacted] is not valid", "xactionId": "x"})
        return None

    sender = ScriptedSender(script=script)
    with delivery(sender, linger_s=60) as d:
        for offset, updated in ((1, 100), (2, 200), (3, 300)):
            d.batch.submit(make_record(offset, customer=7, key=(updated, 0)))
        d.drain()
    assert [[r.offset for r in req] for req in sender.requests] == [[3], [2]]
    assert d.dead.offsets == [3]
    assert d.dead.classes == ["deliver.aep_rejected"]
    # 2 accepted, 1 superseded by 2: accounted by a version that reached AEP, never by 3.
    assert sorted(d.accounted.offsets) == [1, 2]


def test_never_two_records_of_one_customer_in_flight_but_several_requests_at_once() -> None:
    sender = ScriptedSender(latency_s=0.05)
    in_flight_per_customer: list[int] = []
    with delivery(sender, max_records=2, max_in_flight=4) as d:
        for offset in range(40):
            d.batch.submit(make_record(offset, customer=offset % 10, key=(offset, offset)))
            d.batch.poll()
            in_flight = [r for req in sender.requests for r in req]
            in_flight_per_customer.append(len({r.customer_id for r in in_flight}))
        d.drain()
        for request in sender.requests:
            customers = [r.customer_id for r in request]
            assert len(customers) == len(set(customers))
    assert sender.max_concurrent > 1
    assert sorted(d.accounted.offsets) == list(range(40))
    # customers 0-9: the newest version of each (offsets 30-39) was the last one sent
    last_sent: dict[int, int] = {}
    for request in sender.requests:
        for r in request:
            assert r.customer_id is not None
            last_sent[r.customer_id] = r.offset
    assert sorted(last_sent.values()) == list(range(30, 40))


def test_a_request_too_large_is_split_and_a_lone_oversized_record_dead_lettered() -> None:
    sender = ScriptedSender(whole=too_large_over(2500))
    with delivery(sender, linger_s=60) as d:
        for offset in range(4):
            d.batch.submit(make_record(offset, customer=offset, entity=b"y" * 1000))
        d.batch.submit(make_record(9, customer=9, entity=b"z" * 3000))
        d.drain()
    assert sorted(d.accounted.offsets) == [0, 1, 2, 3]
    assert d.dead.offsets == [9]
    assert d.dead.classes == ["deliver.request_too_large"]
    assert max(len(r) for r in sender.requests) == 5
    accepted_requests = [req for req in sender.requests if 9 not in [r.offset for r in req]]
    assert all(sum(len(r.entity_json) for r in req) <= 2500 for req in accepted_requests[1:])


def test_whole_request_and_per_message_retries_end_in_acceptance() -> None:
    def script(record: SourceRecord, attempt: int) -> RetryMessage | None:
        return RetryMessage(record, 503, 0.0) if record.offset == 1 and attempt < 3 else None

    sender = ScriptedSender(script=script, whole=retry_first(1))
    with delivery(sender) as d:
        d.batch.submit(make_record(1, customer=1))
        d.batch.submit(make_record(2, customer=2))
        d.drain(timeout=10)
    assert sorted(d.accounted.offsets) == [1, 2]
    assert d.dead.items == []
    assert len(sender.requests) >= 3


@pytest.mark.parametrize(
    ("error", "code"), [(AepConfigurationFault("no such inlet"), 3), (AepProtocolError("x"), 1)]
)
def test_faults_stop_the_consumer_with_their_exit_code(error: Exception, code: int) -> None:
    def whole(_: object) -> None:
        raise error

    sender = ScriptedSender(whole=whole)
    with delivery(sender) as d:
        d.batch.submit(make_record(1, customer=1))
        with pytest.raises(StopConsumer) as stopped:
            d.drain()
    assert stopped.value.exit_code == code
    assert d.lanes.in_flight() == 0  # nothing left to wait for when stopping
    assert d.accounted.records == []
    assert d.dead.items == []


class FakeSink:
    """A `BatchSink` with a fixed round trip; requests stay in flight until `answer_all`."""

    def __init__(self, round_trip_s: float) -> None:
        self.batches: list[list[SourceRecord]] = []
        self.in_flight = 0
        self._round_trip = round_trip_s

    def can_send(self) -> bool:
        return True

    def requests_in_flight(self) -> int:
        return self.in_flight

    def round_trip_s(self) -> float:
        return self._round_trip

    def submit_batch(self, records: list[SourceRecord]) -> None:
        self.batches.append(records)
        self.in_flight += 1

    def answer_all(self, lanes: CustomerLanes) -> None:
        for batch in self.batches:
            for record in batch:
                if record in lanes_in_flight(lanes):
                    lanes.accepted(record)
        self.in_flight = 0

    def poll(self) -> None:
        pass

    def join(self, timeout: float) -> bool:
        return True

    def close(self) -> None:
        pass


def lanes_in_flight(lanes: CustomerLanes) -> list[SourceRecord]:
    return [lane.in_flight for lane in lanes._lanes.values() if lane.in_flight is not None]


def _batch_step(sink: FakeSink, clock: FakeClock, lanes: CustomerLanes) -> BatchStep:
    return BatchStep(
        lanes,
        sink,
        Collector(),
        Metrics(),
        max_records=100,
        max_request_bytes=1_048_576,
        empty_request_bytes=13,
        message_overhead=100,
        linger_s=0.2,
        clock=clock,
    )


def test_an_idle_connection_still_gathers_when_a_full_batch_arrives_within_one_round_trip() -> None:
    clock = FakeClock()
    lanes = CustomerLanes(clock=clock)
    sink = FakeSink(round_trip_s=0.05)
    step = _batch_step(sink, clock, lanes)
    offset = 0
    # A flood: 60 records per 30 ms tick (2,000/s), 100 in a round trip of 50 ms.
    for _ in range(10):
        for _ in range(60):
            step.submit(make_record(offset, customer=offset))
            offset += 1
        clock.now += 0.03
        step.poll()
        sink.answer_all(lanes)  # answered at once: the connection is idle at every cut
    sizes = [len(b) for b in sink.batches]
    # Until the intake rate is measured (100 ms) each tick's records go at once; from then on
    # only full batches go.
    assert sizes[:3] == [60, 60, 60]
    assert len(sizes) > 5
    assert all(size == 100 for size in sizes[3:])
    # The wait stays bounded by linger: a rest below a full batch goes once it has waited.
    clock.now += 0.2
    step.poll()
    assert sum(len(b) for b in sink.batches) == offset


def test_an_idle_connection_sends_at_once_when_records_trickle_in() -> None:
    clock = FakeClock()
    lanes = CustomerLanes(clock=clock)
    sink = FakeSink(round_trip_s=0.05)
    step = _batch_step(sink, clock, lanes)
    for offset in range(50):  # 500/s: 25 records in a round trip, far from a full batch
        step.submit(make_record(offset, customer=offset))
        clock.now += 0.002
        step.poll()
        assert lanes.buffered() == 0
        sink.answer_all(lanes)
    assert [len(b) for b in sink.batches] == [1] * 50
