"""One embedded RocksDB store per source partition, under `PROFILE_SYNC_STATE_DIR`.

The store is a cache of changelog partition p (docs/DESIGN.md §11): it holds each customer's
mark and, under a key no customer id can take, the changelog position it has read up to (the
local checkpoint a restart resumes from). Memory is bounded by one cache shared by every
partition, which holds the data blocks read and, through one shared write-buffer manager, is
charged for every partition's memtables too: RocksDB's memory does not grow with the number of
partitions owned. Only the SST files' bloom filters and indexes (about 1.5 MB per million
customers) grow with the number of customers.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from rocksdict import (
    BlockBasedOptions,
    Cache,
    Options,
    Rdict,
    WriteBatch,
    WriteBufferManager,
    WriteOptions,
)

from consumer.pipeline.record import OrderingKey
from consumer.pipeline.state.mark import customer_key, decode_mark, encode_mark

# Customer keys are decimal digits: a key starting with NUL is never one.
CHECKPOINT_KEY: Final = b"\x00changelog-position"
_POSITION: Final = struct.Struct(">q")

# A partition's memtable is flushed at WRITE_BUFFER_BYTES, and the largest one is flushed early
# once all of them together reach WRITE_BUFFERS_BYTES (the write-buffer manager). Both count
# against CACHE_BYTES, the data blocks read getting what the memtables leave. Before, each
# partition had 2 x 4 MiB of memtables of its own beside an 8 MiB block cache: 56 MiB with 6
# partitions, more with more (peak VmHWM with a 600,000-record backlog 147-167 -> 146 MB; issue
# 22 in bench/README.md).
WRITE_BUFFER_BYTES: Final = 4 * 1024 * 1024
WRITE_BUFFERS_BYTES: Final = 8 * 1024 * 1024
CACHE_BYTES: Final = 16 * 1024 * 1024


def _options(cache: Cache, write_buffers: WriteBufferManager) -> Options:
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    options.set_write_buffer_size(WRITE_BUFFER_BYTES)
    options.set_max_write_buffer_number(2)
    options.set_write_buffer_manager(write_buffers)
    options.set_max_background_jobs(1)
    options.set_keep_log_file_num(2)
    options.set_max_open_files(64)
    table = BlockBasedOptions()
    table.set_block_cache(cache)
    table.set_bloom_filter(10, False)  # most look-ups are of customers never seen
    options.set_block_based_table_factory(table)
    return options


def _write_options() -> WriteOptions:
    # No write-ahead log: the store is a cache of the changelog. A crash loses at most the
    # writes since the last memtable flush, and a flush keeps a prefix of the writes, so the
    # checkpoint never claims a changelog position whose marks are missing; the restore reads
    # the rest again. Without it a mark write costs a third.
    options = WriteOptions()
    # A property at run time; the package's stub declares a method.
    options.disable_wal = True  # type: ignore[method-assign,assignment]
    return options


class StoreOpenError(RuntimeError):
    """RocksDB refused to open a partition's directory (held by another process, or unusable)."""


class PartitionStore:
    """Marks of the customers of one source partition. Not thread-safe: one owner at a time."""

    def __init__(
        self, path: Path, partition: int, cache: Cache, write_buffers: WriteBufferManager
    ) -> None:
        self.path = path
        self.partition = partition
        try:
            path.mkdir(parents=True, exist_ok=True)
            self._db = Rdict(str(path), _options(cache, write_buffers))
        except Exception as exc:  # rocksdict raises plain Exception (e.g. "lock hold by ...")
            raise StoreOpenError(f"cannot open the state store {path} ({exc})") from None
        self._db.set_write_options(_write_options())
        raw = self._db.get(CHECKPOINT_KEY)
        self._position: int | None = None if raw is None else _POSITION.unpack(raw)[0]
        self._saved = self._position

    def get(self, customer_id: int) -> OrderingKey | None:
        raw = self._db.get(customer_key(customer_id))
        return None if raw is None else decode_mark(raw)

    def put(self, customer_id: int, mark: OrderingKey) -> bool:
        """Raise the customer's mark to `mark`; False (nothing written) when it already is as
        new, so marks only ever move forward."""
        key = customer_key(customer_id)
        raw = self._db.get(key)
        if raw is not None and decode_mark(raw) >= mark:
            return False
        self._db.put(key, encode_mark(mark))
        return True

    def apply(self, entries: Iterable[tuple[bytes, bytes]], position: int) -> int:
        """Write changelog entries (key, value) read below `position`, and the position, in one
        atomic batch: a crash leaves either both or neither. Returns how many were written."""
        batch = WriteBatch(raw_mode=True)
        count = 0
        for key, value in entries:
            decode_mark(value)  # refuses what is not a mark before it reaches the store
            batch.put(key, value)
            count += 1
        batch.put(CHECKPOINT_KEY, _POSITION.pack(position))
        self._db.write(batch)
        self._position = self._saved = position
        return count

    @property
    def position(self) -> int | None:
        """The changelog position every record below which is reflected here (None: nothing
        read yet)."""
        return self._position

    def acknowledged(self, offset: int) -> None:
        """A mark this process wrote (already in the store) landed at `offset` of the
        changelog. Kept in memory; `save_position` persists it."""
        if self._position is None or offset + 1 > self._position:
            self._position = offset + 1

    def save_position(self) -> None:
        if self._position is not None and self._position != self._saved:
            self._db.put(CHECKPOINT_KEY, _POSITION.pack(self._position))
            self._saved = self._position

    def size(self) -> int:
        """Customers with a mark (RocksDB's estimate, less the checkpoint key once written)."""
        estimate = self._db.property_int_value("rocksdb.estimate-num-keys") or 0
        return max(0, estimate - (0 if self._saved is None else 1))

    def close(self) -> None:
        self.save_position()
        self._db.close()


class StateStores:
    """The open stores of the source partitions this process owns, by partition.

    Layout: `{state_dir}/{changelog topic}/{partition}`, so two groups (two changelog topics)
    sharing a directory never read each other's marks.
    """

    def __init__(self, state_dir: Path, changelog_topic: str) -> None:
        self.root = state_dir / changelog_topic
        self._cache = Cache(CACHE_BYTES)
        # No stall: a writer waits for no flush, the bound may be overshot while one runs.
        self.write_buffers = WriteBufferManager.new_write_buffer_manager_with_cache(
            WRITE_BUFFERS_BYTES, False, self._cache
        )
        self._open: dict[int, PartitionStore] = {}
        self._ready: set[int] = set()

    def open(self, partition: int) -> PartitionStore:
        """The partition's store, opened if needed; not `ready` until `mark_ready`."""
        store = self._open.get(partition)
        if store is None:
            store = self._open[partition] = PartitionStore(
                self.root / str(partition), partition, self._cache, self.write_buffers
            )
        return store

    def opened(self, partition: int) -> PartitionStore | None:
        """The store while it is open, restored or not (the restore writes through this)."""
        return self._open.get(partition)

    def mark_ready(self, partition: int) -> None:
        """The store is up to the changelog's end: decisions and mark writes may use it."""
        if partition in self._open:
            self._ready.add(partition)

    def get(self, partition: int) -> PartitionStore | None:
        """The store when it is current (restored), otherwise None."""
        return self._open.get(partition) if partition in self._ready else None

    def partitions(self) -> list[int]:
        return sorted(self._open)

    def discard(self, partition: int) -> PartitionStore:
        """Close the partition's store, delete its files and open it again, empty: for a
        checkpoint the changelog cannot have produced (the topic was recreated)."""
        self.close(partition)
        shutil.rmtree(self.root / str(partition), ignore_errors=True)
        return self.open(partition)

    def save_positions(self) -> None:
        for store in self._open.values():
            store.save_position()

    def close(self, partition: int) -> None:
        """Drop the handle (revoke, loss); the files stay as the next owner's checkpoint."""
        self._ready.discard(partition)
        store = self._open.pop(partition, None)
        if store is not None:
            store.close()

    def close_all(self) -> None:
        for partition in list(self._open):
            self.close(partition)
