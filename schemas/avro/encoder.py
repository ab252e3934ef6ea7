"""Encode commerce events in either wire format (the `produce` command and the tests)."""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any

from fastavro import schemaless_writer

from schemas.avro.confluent_client import ConfluentRegistryClient
from schemas.avro.framing import confluent_header, single_object_header
from schemas.avro.record_types import DEFAULT_TOPIC, subject_name
from schemas.avro.registry import WriterSchemaRegistry
from schemas.avro.writer_schema import WriterSchema


class EncodeError(ValueError):
    """The datum does not fit the schema. The message names the schema, never a value."""


class EventEncoder:
    """Writes with the newest shipped version of a record type unless `version` names another."""

    def __init__(self, registry: WriterSchemaRegistry) -> None:
        self._registry = registry

    def encode_single_object(
        self, record_type: str, datum: Mapping[str, Any], *, version: int | None = None
    ) -> bytes:
        """Avro single-object encoding, byte for byte what Java's BinaryMessageEncoder writes."""
        schema = self._registry.shipped(record_type, version)
        return single_object_header(schema.fingerprint) + _body(schema, datum)

    def encode_confluent(
        self,
        record_type: str,
        datum: Mapping[str, Any],
        client: ConfluentRegistryClient,
        *,
        topic: str = DEFAULT_TOPIC,
        version: int | None = None,
    ) -> bytes:
        """Confluent framing; registers the schema (once per client) under the
        TopicRecordNameStrategy subject `<topic>-<record full name>`."""
        schema = self._registry.shipped(record_type, version)
        schema_id = client.register(subject_name(topic, record_type), schema.text)
        return confluent_header(schema_id) + _body(schema, datum)


def _body(schema: WriterSchema, datum: Mapping[str, Any]) -> bytes:
    out = BytesIO()
    try:
        schemaless_writer(out, schema.parsed, datum)
    except Exception as exc:
        # fastavro's messages can quote the datum: keep only the exception's kind.
        raise EncodeError(f"datum does not fit {schema.origin} ({type(exc).__name__})") from None
    return out.getvalue()
