"""Exceptions of the Avro codecs.

Messages name the error class, the wire format and schema ids or fingerprints only: never a
field value, because they end up in logs and dead-letter headers.
"""

from __future__ import annotations

from typing import Final

EMPTY_VALUE: Final = "decode.empty_value"
UNKNOWN_MAGIC: Final = "decode.unknown_magic"
TRUNCATED: Final = "decode.truncated"
UNKNOWN_FINGERPRINT: Final = "decode.unknown_fingerprint"
UNKNOWN_SCHEMA_ID: Final = "decode.unknown_schema_id"
NO_SCHEMA_REGISTRY: Final = "decode.no_schema_registry"
INVALID_SCHEMA: Final = "decode.invalid_schema"
UNKNOWN_RECORD_TYPE: Final = "decode.unknown_record_type"
SCHEMA_MISMATCH: Final = "decode.schema_mismatch"
MALFORMED_BODY: Final = "decode.malformed_body"

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
