"""Parsing Canonical Form and CRC-64-AVRO (Rabin) fingerprints, as Apache Avro computes them.

fastavro implements both; the golden vectors (written by Java's `SchemaNormalization`) check that
they agree with Java. A fingerprint is kept as the 8 bytes in wire order (little-endian, as the
single-object header carries them), so a header slice is a lookup key as it stands.
"""

from __future__ import annotations

from typing import Any

from fastavro.schema import fingerprint as _fingerprint
from fastavro.schema import to_parsing_canonical_form

FINGERPRINT_SIZE = 8


def canonical_form(parsed_schema: Any) -> str:
    """Parsing Canonical Form of a schema; named types are written in full at their first use,
    as Java does once it has resolved the schema."""
    return str(to_parsing_canonical_form(parsed_schema))


def fingerprint_of_form(form: str) -> bytes:
    """CRC-64-AVRO of a canonical form, as the 8 bytes of the single-object header."""
    # fastavro renders the Rabin fingerprint as the hex of its little-endian bytes.
    return bytes.fromhex(_fingerprint(form, "CRC-64-AVRO"))


def fingerprint(parsed_schema: Any) -> bytes:
    """CRC-64-AVRO fingerprint of a schema's Parsing Canonical Form (wire order)."""
    return fingerprint_of_form(canonical_form(parsed_schema))


def fingerprint_hex(fp: bytes) -> str:
    """The fingerprint as Java prints the long (`%016x`), for logs and messages."""
    return f"{int.from_bytes(fp, 'little'):016x}"
