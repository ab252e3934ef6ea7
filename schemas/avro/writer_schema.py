"""One parsed Avro schema with what the codecs need to know about it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fastavro import parse_schema

from schemas.avro.fingerprint import canonical_form, fingerprint_of_form
from schemas.avro.record_types import short_name
from schemas.avro.zero_width import check_no_zero_width_items


@dataclass(frozen=True, slots=True, eq=False)
class WriterSchema:
    """A known writer (or reader) schema.

    `full_name` is the top-level record's full name (or the primitive type's name);
    `record_type` its short name when the service knows it, else None. `version` is the shipped
    version (`<Type>.v<N>.avsc`), None for schemas from the extra directory or a registry.
    `origin` says where it came from (file name or registry id), for messages and logs.
    """

    full_name: str
    record_type: str | None
    version: int | None
    origin: str
    fingerprint: bytes
    canonical_form: str
    parsed: Any
    text: str


def parse_writer_schema(text: str, *, origin: str, version: int | None = None) -> WriterSchema:
    """Parse a schema document (self-contained: every named type defined in it).

    Raises ValueError (or fastavro's SchemaParseException, a subclass of Exception) when the text
    is not JSON or not a valid Avro schema, and ZeroWidthItemsError (a ValueError) when an array
    of it has items that take no bytes: a reader could be made to allocate without bound.
    """
    document = json.loads(text)
    # The parsed form carries fastavro's marker, so readers and writers never parse it again.
    parsed = parse_schema(document)
    check_no_zero_width_items(parsed)
    form = canonical_form(parsed)
    name = _top_level_name(parsed)
    return WriterSchema(
        full_name=name,
        record_type=short_name(name),
        version=version,
        origin=origin,
        fingerprint=fingerprint_of_form(form),
        canonical_form=form,
        parsed=parsed,
        text=text,
    )


def _top_level_name(parsed: Any) -> str:
    if isinstance(parsed, dict) and parsed.get("type") in ("record", "error"):
        return str(parsed["name"])
    if isinstance(parsed, dict):
        return str(parsed.get("type"))
    if isinstance(parsed, list):
        return "union"
    return str(parsed)


@lru_cache(maxsize=64)
def millis_schema(schema: WriterSchema) -> Any:
    """`schema` parsed without its timestamp-millis logical types: fastavro then reads those
    fields as the plain `long` (epoch milliseconds) they are on the wire. The Parsing Canonical
    Form ignores logical types, so the fingerprint and the bytes read stay the same."""
    return parse_schema(_without_timestamp_millis(json.loads(schema.text)))


def _without_timestamp_millis(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_timestamp_millis(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _without_timestamp_millis(value)
        for key, value in node.items()
        if not (key == "logicalType" and value == "timestamp-millis")
    }
