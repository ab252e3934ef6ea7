"""The send step while AEP fails: partitions reported as backing off exactly while their records
wait, the circuit breaker holding everything but one probe, revokes not waiting on it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from consumer.aep.protocol import OutgoingRecord, RetryRequest, SendResult
from tests.consumer.pipeline.delivery_harness import Delivery, delivery
from tests.consumer.pipeline.fakes import ScriptedSender, make_record


def _until(d: Delivery, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        d.batch.poll()
        time.sleep(0.005)


def _down_until(up: list[bool]) -> Callable[[Sequence[OutgoingRecord]], SendResult | None]:
    def whole(records: Sequence[OutgoingRecord]) -> SendResult | None:
        return None if up[0] else RetryRequest("http_503", 503, None)

    return whole


def test_partitions_back_off_exactly_while_their_records_wait_for_a_retry() -> None:
    up = [False]
    sender = ScriptedSender(whole=_down_until(up))
    with delivery(sender, backoff_cap_s=0.2, breaker_threshold=1000) as d:
        d.batch.submit(make_record(1, customer=1, partition=2))
        d.batch.submit(make_record(2, customer=2, partition=5))
        _until(d, lambda: d.send.backing_off() == {("t", 2), ("t", 5)})
        up[0] = True
        d.settle()
        assert d.send.backing_off() == frozenset()
    assert sorted(d.accounted.offsets) == [1, 2]
    assert d.dead.items == []


def test_an_open_circuit_sends_one_probe_at_a_time_and_nothing_else() -> None:
    up = [False]
    sender = ScriptedSender(whole=_down_until(up))
    with delivery(sender, max_records=1, backoff_cap_s=0.1, breaker_threshold=2) as d:
        for offset in range(6):
            d.batch.submit(make_record(offset, customer=offset))
        _until(d, lambda: d.send.breaker.is_open)
        _until(d, lambda: d.send.breaker.probes >= 3)
        sent, probes = len(sender.requests), d.send.breaker.probes
        time.sleep(0.3)
        d.batch.poll()
        # While open, only probes leave (one per back-off interval, <= 0.1 s here); the +1 is a
        # probe admitted before the first count whose request left after it.
        new_probes = d.send.breaker.probes - probes
        assert new_probes >= 1
        assert len(sender.requests) - sent <= new_probes + 1
        assert sender.max_concurrent <= 4  # the in-flight bound, never a retry storm
        up[0] = True
        d.settle()
    assert sorted(d.accounted.offsets) == list(range(6))
    assert not d.send.breaker.is_open
    assert d.dead.items == []


def test_a_revoke_does_not_wait_for_records_held_by_the_open_circuit() -> None:
    sender = ScriptedSender(whole=_down_until([False]))
    with delivery(sender, backoff_cap_s=30, breaker_threshold=1) as d:
        d.batch.submit(make_record(1, customer=1, partition=3))
        _until(d, lambda: d.send.breaker.is_open)
        started = time.monotonic()
        d.send.revoke([("t", 3)])
        d.settle(timeout=2)
        assert time.monotonic() - started < 1.0
    assert d.accounted.records == []
    assert d.dead.items == []


def test_a_revoke_lets_its_records_go_at_once_while_the_rest_of_their_batch_waits() -> None:
    up = [False]
    sender = ScriptedSender(whole=_down_until(up))
    with delivery(sender, backoff_cap_s=30, breaker_threshold=1, linger_s=0.05) as d:
        d.batch.submit(make_record(1, customer=1, partition=3))
        d.batch.submit(make_record(2, customer=2, partition=4))
        _until(d, lambda: d.send.breaker.is_open)
        assert len(sender.requests[0]) == 2  # one batch, two partitions
        d.send.revoke([("t", 3)])
        _until(d, lambda: d.lanes.in_flight_in([("t", 3)]) == 0, timeout=1.0)
        assert d.lanes.in_flight_in([("t", 4)]) == 1  # still waiting for AEP
        up[0] = True  # the next probe (a few seconds at most this early) gets through
        d.settle(timeout=15)
    assert d.accounted.offsets == [2]
    assert d.dead.items == []
