"""The per-partition RocksDB store: marks only move forward, the checkpoint survives a
restart, a restore batch is written with its position."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumer.pipeline.state.mark import MarkFormatError, customer_key, encode_mark
from consumer.pipeline.state.store import (
    WRITE_BUFFER_BYTES,
    WRITE_BUFFERS_BYTES,
    StateStores,
    StoreOpenError,
)


def test_marks_only_move_forward(tmp_path: Path) -> None:
    stores = StateStores(tmp_path, "g.state")
    store = stores.open(3)
    assert store.get(7) is None
    assert store.put(7, (10, 10, 1))
    assert not store.put(7, (9, 99, 2))  # older: kept out
    assert not store.put(7, (10, 10, 1))  # the same version: nothing to write
    assert store.get(7) == (10, 10, 1)
    assert store.put(7, (10, 10, 5))
    assert store.get(7) == (10, 10, 5)
    stores.close_all()


def test_marks_and_checkpoint_survive_reopening(tmp_path: Path) -> None:
    stores = StateStores(tmp_path, "g.state")
    store = stores.open(0)
    assert store.position is None
    store.put(1, (1, 1, 1))
    store.acknowledged(41)
    store.acknowledged(40)  # acknowledgements never move the position back
    assert store.position == 42
    stores.close_all()

    again = StateStores(tmp_path, "g.state").open(0)
    assert again.get(1) == (1, 1, 1)
    assert again.position == 42
    assert (tmp_path / "g.state" / "0").is_dir()


def test_partitions_and_topics_do_not_share_marks(tmp_path: Path) -> None:
    stores = StateStores(tmp_path, "g.state")
    stores.open(0).put(1, (1, 1, 1))
    assert stores.open(1).get(1) is None
    other = StateStores(tmp_path, "h.state")
    assert other.open(0).get(1) is None
    stores.close_all()
    other.close_all()


def test_apply_writes_entries_and_position_together(tmp_path: Path) -> None:
    stores = StateStores(tmp_path, "g.state")
    store = stores.open(0)
    count = store.apply([(b"5", encode_mark((3, 3, 3))), (b"6", encode_mark((4, 4, 4)))], 12)
    assert count == 2
    assert store.get(5) == (3, 3, 3)
    assert store.get(6) == (4, 4, 4)
    assert store.position == 12
    with pytest.raises(MarkFormatError):
        store.apply([(b"7", b"not a mark")], 13)
    assert store.get(7) is None
    assert store.position == 12
    stores.close_all()


def test_discard_empties_a_partition(tmp_path: Path) -> None:
    stores = StateStores(tmp_path, "g.state")
    stores.open(2).apply([(b"5", encode_mark((3, 3, 3)))], 1)
    fresh = stores.discard(2)
    assert fresh.get(5) is None
    assert fresh.position is None
    stores.close_all()


def test_size_counts_customers(tmp_path: Path) -> None:
    stores = StateStores(tmp_path, "g.state")
    store = stores.open(0)
    for customer in range(1_000):
        store.put(customer, (customer, customer, customer))
    store.acknowledged(999)
    store.save_position()
    assert 900 <= store.size() <= 1_100  # RocksDB's estimate
    assert stores.partitions() == [0]
    stores.close(0)
    assert stores.opened(0) is None
    assert stores.partitions() == []


def test_a_store_serves_decisions_only_once_ready(tmp_path: Path) -> None:
    stores = StateStores(tmp_path, "g.state")
    store = stores.open(5)
    assert stores.get(5) is None
    assert stores.opened(5) is store
    stores.mark_ready(5)
    assert stores.get(5) is store
    stores.mark_ready(6)  # never opened: stays unknown
    assert stores.get(6) is None
    stores.close(5)
    assert stores.get(5) is None
    assert stores.opened(5) is None
    assert stores.open(5) is not store
    assert stores.get(5) is None  # reopened: restored again before use
    stores.close_all()


def test_a_directory_held_by_another_store_is_refused_clearly(tmp_path: Path) -> None:
    first = StateStores(tmp_path, "g.state")
    first.open(0)
    with pytest.raises(StoreOpenError, match="cannot open the state store"):
        StateStores(tmp_path, "g.state").open(0)
    first.close_all()


def test_every_partitions_memtables_count_against_one_bound(tmp_path: Path) -> None:
    stores = StateStores(tmp_path, "g.state")
    usage = [stores.write_buffers.get_usage()]
    for partition in range(3):
        stores.open(partition).put(1, (1, 1, 1))
        usage.append(stores.write_buffers.get_usage())
    assert usage == sorted(set(usage))  # each partition's memtable is charged to the one manager

    peak = 0
    for partition in range(3):
        store = stores.open(partition)
        for batch in range(10):
            first = partition * 1_000_000 + batch * 10_000
            marks = ((customer_key(first + i), encode_mark((i, i, i))) for i in range(10_000))
            store.apply(marks, batch + 1)
            peak = max(peak, stores.write_buffers.get_usage())
    # 300,000 marks (about 3 x 4 MiB of memtables): flushed early, overshoot by one at most.
    assert WRITE_BUFFERS_BYTES / 2 < peak <= WRITE_BUFFERS_BYTES + WRITE_BUFFER_BYTES
    assert stores.open(2).get(2_000_000 + 99_999) == (9_999, 9_999, 9_999)
    assert stores.open(0).get(5) == (5, 5, 5)
    stores.close_all()
