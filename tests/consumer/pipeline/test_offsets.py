from __future__ import annotations

import pytest

from consumer.pipeline.offsets import OffsetTracker

TP = ("t", 0)


def tracker_with(*offsets: int) -> OffsetTracker:
    tracker = OffsetTracker()
    tracker.assign(TP)
    for offset in offsets:
        assert tracker.track(TP, offset)
    return tracker


def test_position_is_highest_contiguous_accounted_plus_one() -> None:
    tracker = tracker_with(10, 11, 12, 13)
    tracker.accounted(TP, 11)
    tracker.accounted(TP, 13)
    assert tracker.position(TP) is None  # 10 is not accounted for: nothing to commit
    tracker.accounted(TP, 10)
    assert tracker.position(TP) == 12
    assert tracker.pending(TP) == 1
    tracker.accounted(TP, 12)
    assert tracker.position(TP) == 14
    assert tracker.pending(TP) == 0


def test_gaps_in_polled_offsets_do_not_hold_the_watermark() -> None:
    tracker = tracker_with(5, 9)  # 6-8: compacted away or transaction markers
    tracker.accounted(TP, 5)
    assert tracker.position(TP) == 6
    tracker.accounted(TP, 9)
    assert tracker.position(TP) == 10


def test_duplicate_and_unknown_reports_change_nothing() -> None:
    tracker = tracker_with(1, 2)
    tracker.accounted(TP, 1)
    tracker.accounted(TP, 1)
    tracker.accounted(("t", 7), 1)
    assert tracker.position(TP) == 2
    assert tracker.pending(TP) == 1


def test_forgotten_partition_is_not_tracked() -> None:
    tracker = tracker_with(1)
    tracker.forget(TP)
    assert not tracker.track(TP, 2)
    tracker.accounted(TP, 1)
    assert tracker.position(TP) is None
    assert tracker.uncommitted() == {}


def test_uncommitted_reports_only_moved_positions() -> None:
    tracker = tracker_with(1, 2)
    tracker.accounted(TP, 1)
    assert tracker.uncommitted() == {TP: 2}
    tracker.mark_committed({TP: 2})
    assert tracker.uncommitted() == {}
    tracker.accounted(TP, 2)
    assert tracker.uncommitted() == {TP: 3}


def test_offsets_must_arrive_in_poll_order() -> None:
    tracker = tracker_with(4)
    with pytest.raises(ValueError, match="out of order"):
        tracker.track(TP, 3)
