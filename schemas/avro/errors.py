"""Exceptions of the Avro codecs.

Messages name the error class, the wire format and schema ids or fingerprints only: never a
field value, because they end up in logs and dead-letter headers.
"""

from __future__ import annotations

from typing import Final

from schemas.error_classes import (
    DECODE_UNKNOWN_RECORD_TYPE as UNKNOWN_RECORD_TYPE,
)
from schemas.error_classes import (
    EMPTY_VALUE,
    INVALID_SCHEMA,
    MALFORMED_BODY,
    NO_SCHEMA_REGISTRY,
    SCHEMA_MISMATCH,
    TRUNCATED,
    UNKNOWN_FINGERPRINT,
    UNKNOWN_MAGIC,
    UNKNOWN_SCHEMA_ID,
)

__all__ = [
    "DECODE_ERROR_CLASSES",
    "EMPTY_VALUE",
    "INVALID_SCHEMA",
    "MALFORMED_BODY",
    "NO_SCHEMA_REGISTRY",
    "SCHEMA_MISMATCH",
    "TRUNCATED",
    "UNKNOWN_FINGERPRINT",
    "UNKNOWN_MAGIC",
    "UNKNOWN_RECORD_TYPE",
    "UNKNOWN_SCHEMA_ID",
    "DecodeError",
    "SchemaLoadError",
    "SchemaNotFoundError",
    "SchemaRegistryError",
    "SchemaRegistryUnavailableError",
    "TransientDecodeError",
]

DECODE_ERROR_CLASSES: Final[tuple[str, ...]] = (
    EMPTY_VALUE,
    UNKNOWN_MAGIC,
    TRUNCATED,
    UNKNOWN_FINGERPRINT,
    UNKNOWN_SCHEMA_ID,
    NO_SCHEMA_REGISTRY,
    INVALID_SCHEMA,
    UNKNOWN_RECORD_TYPE,
    SCHEMA_MISMATCH,
    MALFORMED_BODY,
)


class DecodeError(Exception):
    """The value can never be decoded: dead-letter it with `error_class` and go on."""

    def __init__(self, error_class: str, message: str, *, record_type: str | None = None) -> None:
        super().__init__(f"{error_class}: {message}")
        self.error_class = error_class
        self.message = message
        # The short record type when the writer schema was known (dead-letter header).
        self.record_type = record_type


class TransientDecodeError(Exception):
    """The Schema Registry is unreachable or answered 5xx/429: pause, retry, never dead-letter."""


class SchemaRegistryUnavailableError(Exception):
    """The registry could not be reached, timed out, or answered 5xx/408/429."""


class SchemaNotFoundError(Exception):
    """The registry answered 404 for a schema id."""

    def __init__(self, schema_id: int) -> None:
        super().__init__(f"schema id {schema_id} not found")
        self.schema_id = schema_id


class SchemaRegistryError(Exception):
    """The Schema Registry refused the service itself (401, 403, another 4xx, or an answer that
    is not its API): a configuration fault, neither a per-record error nor worth retrying."""


class SchemaLoadError(Exception):
    """A shipped or extra `.avsc` file cannot be loaded (start-up configuration fault)."""
