"""A customer's mark and its bytes, shared by the store and the changelog topic.

The mark is the ordering key (docs/DESIGN.md §6) of the newest version AEP accepted or deleted.
Key: the customer id in decimal ASCII, as the Commerce producer keys its records. Value: a
format byte, then the key's three numbers as signed 64-bit big-endian integers (25 bytes).
"""

from __future__ import annotations

import struct
from typing import Final

from consumer.pipeline.record import OrderingKey

FORMAT_V1: Final = 1
_LAYOUT: Final = struct.Struct(">Bqqq")
MARK_BYTES: Final = _LAYOUT.size


class MarkFormatError(ValueError):
    """Bytes that are not a mark of a known format (another writer, or a newer version)."""


def customer_key(customer_id: int) -> bytes:
    return str(customer_id).encode("ascii")


def encode_mark(mark: OrderingKey) -> bytes:
    return _LAYOUT.pack(FORMAT_V1, *mark)


def decode_mark(value: bytes) -> OrderingKey:
    if len(value) != MARK_BYTES or value[0] != FORMAT_V1:
        raise MarkFormatError(f"not a version-{FORMAT_V1} mark ({len(value)} bytes)")
    _, primary, secondary, offset = _LAYOUT.unpack(value)
    return (primary, secondary, offset)


def is_stale(key: OrderingKey, mark: OrderingKey | None) -> bool:
    """docs/DESIGN.md §11: strictly older than the mark is stale; equal is the same version
    again (harmless to send), newer goes on."""
    return mark is not None and key < mark
