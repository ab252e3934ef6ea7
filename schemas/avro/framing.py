"""The two wire formats' headers (the Avro body follows them)."""

from __future__ import annotations

from typing import Final

from schemas.avro.fingerprint import FINGERPRINT_SIZE

# Avro single-object encoding: C3 01, then the 8-byte little-endian CRC-64-AVRO fingerprint.
SINGLE_OBJECT_MAGIC: Final = b"\xc3\x01"
SINGLE_OBJECT_HEADER_SIZE: Final = len(SINGLE_OBJECT_MAGIC) + FINGERPRINT_SIZE

# Confluent Schema Registry framing: 0x00, then the 4-byte big-endian schema id.
CONFLUENT_MAGIC: Final = 0
CONFLUENT_HEADER_SIZE: Final = 5


def single_object_header(fingerprint: bytes) -> bytes:
    if len(fingerprint) != FINGERPRINT_SIZE:
        raise ValueError("a CRC-64-AVRO fingerprint has 8 bytes")
    return SINGLE_OBJECT_MAGIC + fingerprint


def confluent_header(schema_id: int) -> bytes:
    return bytes((CONFLUENT_MAGIC,)) + schema_id.to_bytes(4, "big")
