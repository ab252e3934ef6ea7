from __future__ import annotations

from consumer.pipeline.lanes import CustomerLanes
from tests.consumer.pipeline.fakes import make_record


def size(_: object) -> int:
    return 1


def test_only_the_newest_record_of_a_customer_is_taken() -> None:
    lanes = CustomerLanes()
    old = make_record(1, customer=7, key=(100, 100))
    new = make_record(2, customer=7, key=(200, 200))
    other = make_record(3, customer=8)
    for record in (old, new, other):
        assert lanes.add(record)
    batch = lanes.take(10, 10_000, size)
    assert batch == [new, other]
    assert lanes.in_flight() == 2
    assert lanes.buffered() == 1
    assert lanes.take(10, 10_000, size) == []  # customer 7 is in flight: nothing more


def test_ordering_key_beats_offset_and_ties_go_to_the_higher_offset() -> None:
    lanes = CustomerLanes()
    newer_at_lower_offset = make_record(1, customer=7, key=(300, 0))
    older = make_record(2, customer=7, key=(200, 0))
    lanes.add(newer_at_lower_offset)
    lanes.add(older)
    assert lanes.take(10, 10_000, size) == [newer_at_lower_offset]

    tie_low = make_record(3, customer=9, key=(5, 5))
    tie_high = make_record(4, customer=9, key=(5, 5))
    lanes.add(tie_low)
    lanes.add(tie_high)
    assert lanes.take(10, 10_000, size) == [tie_high]


def test_acceptance_supersedes_older_waiting_records_only() -> None:
    lanes = CustomerLanes()
    first = make_record(1, customer=7, key=(100, 0))
    lanes.add(first)
    (sent,) = lanes.take(10, 10_000, size)
    older = make_record(2, customer=7, key=(50, 0))
    newer = make_record(3, customer=7, key=(150, 0))
    lanes.add(older)
    lanes.add(newer)
    assert lanes.accepted(sent) == [older]
    assert lanes.take(10, 10_000, size) == [newer]


def test_a_refused_superseder_makes_the_newest_superseded_record_sendable() -> None:
    lanes = CustomerLanes()
    v1 = make_record(1, customer=7, key=(100, 0))
    v2 = make_record(2, customer=7, key=(200, 0))
    v3 = make_record(3, customer=7, key=(300, 0))
    for record in (v1, v2, v3):
        lanes.add(record)
    assert lanes.take(10, 10_000, size) == [v3]
    lanes.released(v3)  # refused by AEP, dead-lettered
    assert lanes.take(10, 10_000, size) == [v2]
    assert lanes.accepted(v2) == [v1]
    assert lanes.buffered() == 0
    assert lanes.in_flight() == 0


def test_a_record_older_than_an_accepted_one_is_superseded_on_arrival() -> None:
    lanes = CustomerLanes()
    new = make_record(1, customer=7, key=(200, 0))
    lanes.add(new)
    lanes.take(10, 10_000, size)
    lanes.accepted(new)
    assert not lanes.add(make_record(2, customer=7, key=(100, 0)))
    assert lanes.add(make_record(3, customer=7, key=(300, 0)))


def test_take_respects_the_byte_budget_but_always_takes_one() -> None:
    lanes = CustomerLanes()
    for offset in range(5):
        lanes.add(make_record(offset, customer=offset))
    assert len(lanes.take(10, 25, lambda _: 10)) == 2
    assert len(lanes.take(10, 5, lambda _: 10)) == 1


def test_retry_puts_the_record_back() -> None:
    lanes = CustomerLanes()
    record = make_record(1, customer=7)
    lanes.add(record)
    lanes.take(10, 10_000, size)
    lanes.retry(record)
    assert lanes.take(10, 10_000, size) == [record]


def test_drop_partitions_forgets_waiting_records_but_not_in_flight_ones() -> None:
    lanes = CustomerLanes()
    in_flight = make_record(1, customer=7, partition=1)
    lanes.add(in_flight)
    lanes.take(10, 10_000, size)
    lanes.add(make_record(2, customer=7, partition=1))
    lanes.add(make_record(3, customer=8, partition=1))
    lanes.add(make_record(4, customer=9, partition=2))
    assert lanes.drop_partitions([("t", 1)]) == 2
    assert lanes.buffered() == 1
    assert lanes.in_flight_in([("t", 1)]) == 1
    lanes.released(in_flight)
    assert [r.offset for r in lanes.take(10, 10_000, size)] == [4]


def test_revoked_records_older_than_the_in_flight_one_are_superseded_if_it_is_accepted() -> None:
    lanes = CustomerLanes()
    old = make_record(1, customer=7, key=(100, 0), partition=1)
    lanes.add(old)
    (flying,) = lanes.take(10, 10_000, size)
    older = make_record(2, customer=7, key=(50, 0), partition=1)
    newer = make_record(3, customer=7, key=(300, 0), partition=1)
    lanes.add(older)
    lanes.add(newer)
    assert lanes.drop_partitions([("t", 1)]) == 2
    assert lanes.accepted(flying) == [older]  # newer was dropped: never sent, not accounted
    assert lanes.take(10, 10_000, size) == []


def test_held_records_stay_unaccounted_when_the_in_flight_record_is_refused() -> None:
    lanes = CustomerLanes()
    lanes.add(make_record(1, customer=7, key=(100, 0), partition=1))
    (flying,) = lanes.take(10, 10_000, size)
    lanes.add(make_record(2, customer=7, key=(50, 0), partition=1))
    lanes.drop_partitions([("t", 1)])
    lanes.released(flying)
    assert lanes.take(10, 10_000, size) == []
    assert lanes.buffered() == 0
