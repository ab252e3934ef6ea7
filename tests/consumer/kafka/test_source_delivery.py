"""The source and the real pipeline together (fakes only at the edges): each record's outcome is
settled as soon as AEP answers for it, revokes wait only for unanswered records, dead-letter
writes count against the buffer bound, and a stop settles everything already answered."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest

from consumer.aep.protocol import (
    AepConfigurationFault,
    Rejected,
    RetryMessage,
    SendResult,
)
from consumer.config import exit_codes
from consumer.pipeline.compose import PipelineLimits
from consumer.pipeline.errors import StopConsumer
from consumer.pipeline.guard import DeadLetterGuard
from consumer.pipeline.record import SourceRecord
from tests.consumer.pipeline.fakes import TOPIC, CountedNotes, ScriptedSender
from tests.consumer.scripted_kafka import (
    DeadLetterBroker,
    JsonCore,
    Message,
    ScriptedConsumer,
    scripted_stack,
    value,
)


def throttled_on(partition: int, retry_after_s: float | None) -> ScriptedSender:
    """AEP accepts every record except those of `partition`, retried (429) for ever."""

    def script(record: SourceRecord, _attempt: int) -> RetryMessage | None:
        if record.partition == partition:
            return RetryMessage(record, 429, retry_after_s)
        return None

    return ScriptedSender(script)


def test_a_revoke_does_not_wait_for_an_answered_record_whose_batch_mate_is_retried() -> None:
    sender = throttled_on(1, retry_after_s=2.0)
    with scripted_stack(sender, revoke_timeout_s=5.0) as stack:
        consumer = stack.consumer
        consumer.script = [
            lambda c: c.assign(0, 1),
            [Message(0, 0, value(1, 10)), Message(1, 0, value(2, 10))],
        ]
        stack.ticks(2.0, until=lambda: len(sender.accepted) == 1)
        assert [r.coordinates for r in sender.requests[0]] == [(TOPIC, 0, 0), (TOPIC, 1, 0)]
        started = time.monotonic()
        consumer.revoke(0)
        assert time.monotonic() - started < 1.0
        # The accepted record is committed by its old owner, so its new owner does not resend it.
        assert (0, 1) in consumer.committed
        assert stack.pipeline.unsettled([(TOPIC, 1)])  # the throttled one is still in flight


def test_one_record_retried_for_ever_holds_back_no_other_partition() -> None:
    sender = ScriptedSender(
        lambda r, _a: RetryMessage(r, 503, None) if r.customer_id == 7 else None
    )
    with scripted_stack(sender) as stack:
        next_offset = dict.fromkeys(range(3), 0)
        customers = iter(range(100, 10_000))

        def turn(_consumer: ScriptedConsumer) -> list[Message]:
            messages = []
            for _ in range(30):
                customer = next(customers)
                partition = customer % 3
                offset = next_offset[partition]
                # Customer 7 (partition 1) is in the very first turn, then never again.
                if offset == 0 and partition == 1:
                    customer = 7
                messages.append(Message(partition, offset, value(customer, offset + 1)))
                next_offset[partition] += 1
            return messages

        stack.consumer.script = [lambda c: c.assign(0, 1, 2)] + [turn] * 20

        def others_done() -> bool:
            others = [r for r in sender.accepted if r.partition != 1]
            return not stack.consumer.script and len(others) == next_offset[0] + next_offset[2]

        stack.ticks(10.0, until=others_done)
        stack.ticks(0.6)  # one more commit interval: the positions are stored
        assert others_done()
        # Partitions 0 and 2 are committed to their end, while customer 7's record, the first
        # of partition 1, is retried (partition 1 is paused while it backs off).
        assert stack.consumer.last_position(0) == next_offset[0] == 200
        assert stack.consumer.last_position(2) == next_offset[2] == 200
        assert (stack.consumer.last_position(1) or 0) == 0
        assert stack.pipeline.unsettled([(TOPIC, 1)])
        assert not stack.pipeline.unsettled([(TOPIC, 0), (TOPIC, 2)])


def test_dead_letter_writes_waiting_for_their_acknowledgement_count_against_the_bound() -> None:
    broker = DeadLetterBroker(acknowledging=False)  # the dead-letter topic stopped answering
    limits = PipelineLimits(linger_s=0.01, max_buffered=100)
    with scripted_stack(ScriptedSender(), limits=limits, dead_letter_broker=broker) as stack:
        offsets = iter(range(1_000_000))

        def turn(_consumer: ScriptedConsumer) -> list[Message]:
            messages = []
            for _ in range(100):
                offset = next(offsets)
                bad = offset % 5 < 2  # 40 % undecodable: under the guard's share
                messages.append(Message(0, offset, b"bad" if bad else value(offset, offset)))
            return messages

        stack.consumer.script = [lambda c: c.assign(0)] + [turn] * 50
        peak = {"held": 0}

        def watch() -> bool:
            peak["held"] = max(peak["held"], stack.pipeline.buffered_records())
            return False

        stack.ticks(2.0, until=watch)
        # Without the count, every bad record polled would wait in memory for its write.
        assert 90 <= broker.unacknowledged <= 100
        assert peak["held"] <= 100
        assert stack.consumer.paused == {0}
        assert stack.pipeline.room() <= 0
        polled = stack.source.polled
        broker.acknowledging = True
        stack.ticks(2.0, until=lambda: stack.source.polled > polled + 500)
        assert stack.source.polled > polled + 500  # acknowledged: room again


def test_a_guard_trip_while_settling_settles_the_rest_and_the_shutdown_is_quick() -> None:
    sender = ScriptedSender(
        lambda r, _a: Rejected(r, 400, {"message": "refused"}) if r.customer_id in (1, 2) else None
    )
    guard = DeadLetterGuard(60, min_records=2, max_share=0.5)
    with scripted_stack(sender, guard=guard, revoke_timeout_s=5.0) as stack:
        stack.consumer.script = [
            lambda c: c.assign(0),
            [Message(0, o, value(o + 1, 10)) for o in range(4)],
        ]
        with pytest.raises(StopConsumer) as stopped:
            stack.source.run(threading.Event())
        assert stopped.value.exit_code == exit_codes.DLQ_GUARD_TRIPPED
        assert [r.offset for r in sender.accepted] == [2, 3]
        # Nothing answered is left in flight: what is held is offset 0's dead-letter write.
        assert stack.pipeline.buffered_records() == stack.dead_letter_broker.unacknowledged == 1
        started = time.monotonic()
        stack.source.shutdown()
        assert time.monotonic() - started < 1.0
        # Offset 0 went to the dead-letter topic (the trip refused offset 1's write), so nothing
        # past the window's first record is committed: a restart after the fix redoes them all.
        assert stack.consumer.last_position(0) in (None, 0)


class FaultingOnThirdRequest(ScriptedSender):
    """The third request gets a configuration fault (401 after a token refresh)."""

    def __post_init__(self) -> None:
        self.faulted: list[tuple[int, int]] = []

    async def send(self, records: Sequence[object]) -> SendResult:  # type: ignore[override]
        if len(self.requests) == 2:
            self.requests.append([])
            self.faulted = [(r.key.partition, r.key.offset) for r in records]  # type: ignore[attr-defined]
            raise AepConfigurationFault("HTTP 401 after a token refresh")
        await asyncio.sleep(0.01)
        return await super().send(records)  # type: ignore[arg-type]


def test_a_configuration_fault_mid_run_stops_without_committing_past_the_faulted_records() -> None:
    sender = FaultingOnThirdRequest()
    limits = PipelineLimits(linger_s=0.01, max_records=5, max_in_flight=2)
    with scripted_stack(sender, limits=limits) as stack:
        stack.consumer.script = [
            lambda c: c.assign(0, 1),
            [Message(i % 2, i // 2, value(i, i)) for i in range(60)],
        ]
        with pytest.raises(StopConsumer) as stopped:
            stack.source.run(threading.Event())
        assert stopped.value.exit_code == exit_codes.AEP_CONFIG_FAULT
        stack.source.shutdown()
        assert sender.faulted
        for partition in (0, 1):
            first_faulted = min((o for p, o in sender.faulted if p == partition), default=None)
            position = stack.consumer.last_position(partition)
            if first_faulted is not None and position is not None:
                assert position <= first_faulted


def test_a_record_let_go_on_revoke_and_a_failed_request_are_settled_once() -> None:
    # Both records are retried; p0 is revoked during the back-off (its record is let go), then
    # the retry of the rest fails. The shutdown must neither raise nor skip its commit.
    calls = {"n": 0}

    def script(record: SourceRecord, attempt: int) -> RetryMessage | None:
        return RetryMessage(record, 503, 0.3)

    class FailingRetry(ScriptedSender):
        async def send(self, records: Sequence[object]) -> SendResult:  # type: ignore[override]
            calls["n"] += 1
            if calls["n"] > 1:
                raise AepConfigurationFault("HTTP 403 on the retry")
            return await super().send(records)  # type: ignore[arg-type]

    sender = FailingRetry(script)
    with scripted_stack(sender, revoke_timeout_s=5.0) as stack:
        stack.consumer.script = [
            lambda c: c.assign(0, 1),
            [Message(0, 0, value(1, 1)), Message(1, 0, b"bad"), Message(1, 1, value(2, 1))],
        ]
        stack.ticks(1.0, until=lambda: calls["n"] == 1)
        time.sleep(0.05)
        stack.consumer.revoke(0)
        with pytest.raises(StopConsumer) as stopped:
            stack.source.run(threading.Event())
        assert stopped.value.exit_code == exit_codes.AEP_CONFIG_FAULT
        started = time.monotonic()
        stack.source.shutdown()  # no RuntimeError from a record released twice
        assert time.monotonic() - started < 1.0
        assert stack.pipeline.buffered_records() == 0
        # p0's record was let go (its new owner sends it); p1's final commit covers its dead
        # letter and stops before the record whose request failed.
        assert stack.consumer.committed == [(1, 1)]


def test_a_refused_newest_record_lets_the_one_it_superseded_go_next() -> None:
    sender = ScriptedSender(
        lambda r, _a: Rejected(r, 400, {"message": "no"}) if r.offset == 1 else None
    )
    with scripted_stack(sender) as stack:
        stack.consumer.script = [
            lambda c: c.assign(0),
            [Message(0, 0, value(9, 1)), Message(0, 1, value(9, 2)), Message(0, 2, value(9, 0))],
        ]
        stack.ticks(2.0, until=lambda: stack.consumer.last_position(0) == 3)
        assert [[r.offset for r in batch] for batch in sender.requests] == [[1], [0]]
        assert [r.offset for r in sender.accepted] == [0]  # offset 2 is older: superseded
        assert len(stack.dead_letter_broker.written) == 1
        assert stack.consumer.last_position(0) == 3


def test_with_a_native_core_its_records_and_the_others_are_delivered_and_its_notes_counted() -> (
    None
):
    sender = ScriptedSender()
    metrics = CountedNotes()
    with scripted_stack(sender, core=JsonCore(), metrics=metrics) as stack:
        stack.consumer.script = [
            lambda c: c.assign(0),
            [
                Message(0, 0, value(1, 10, core=True, notes=["map.gender_unknown"])),
                Message(0, 1, value(2, 10)),  # the core declines it: the Python steps map it
                Message(0, 2, b"bad"),  # and refuse this one
            ],
        ]
        stack.ticks(2.0, until=lambda: len(sender.accepted) == 2)
        assert sorted(r.customer_id for r in sender.accepted) == [1, 2]
        assert metrics.counted == ["map.gender_unknown"]
