"""Avro schemas of the commerce customer events and their wire-format codecs.

Shipped versions live in `commerce.customer.v1/<Type>.v<N>.avsc` (history in README.md).
"""

from schemas.avro.confluent_client import ConfluentRegistryClient, RegisteredSchema
from schemas.avro.decoder import DecodedEvent, EventDecoder, WireFormat
from schemas.avro.encoder import EncodeError, EventEncoder
from schemas.avro.errors import (
    DECODE_ERROR_CLASSES,
    DecodeError,
    SchemaLoadError,
    SchemaNotFoundError,
    SchemaRegistryError,
    SchemaRegistryUnavailableError,
    TransientDecodeError,
)
from schemas.avro.fingerprint import canonical_form, fingerprint, fingerprint_hex
from schemas.avro.record_types import DEFAULT_TOPIC, NAMESPACE, RECORD_TYPES, subject_name
from schemas.avro.registry import WriterSchemaRegistry
from schemas.avro.writer_schema import WriterSchema, parse_writer_schema

__all__ = [
    "DECODE_ERROR_CLASSES",
    "DEFAULT_TOPIC",
    "NAMESPACE",
    "RECORD_TYPES",
    "ConfluentRegistryClient",
    "DecodeError",
    "DecodedEvent",
    "EncodeError",
    "EventDecoder",
    "EventEncoder",
    "RegisteredSchema",
    "SchemaLoadError",
    "SchemaNotFoundError",
    "SchemaRegistryError",
    "SchemaRegistryUnavailableError",
    "TransientDecodeError",
    "WireFormat",
    "WriterSchema",
    "WriterSchemaRegistry",
    "canonical_form",
    "fingerprint",
    "fingerprint_hex",
    "parse_writer_schema",
    "subject_name",
]
