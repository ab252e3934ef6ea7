"""Decode Kafka values (either wire format, detected per message) into commerce events."""

from __future__ import annotations

import time
from dataclasses import dataclass
from io import BytesIO
from typing import Any, Final, Literal, TypeVar, cast

from fastavro import schemaless_reader
from fastavro.read import SchemaResolutionError

from schemas.avro import errors
from schemas.avro.compiled_reader import CompiledReader, compile_reader
from schemas.avro.confluent_client import ConfluentRegistryClient, RegisteredSchema
from schemas.avro.errors import (
    DecodeError,
    SchemaNotFoundError,
    SchemaRegistryUnavailableError,
    TransientDecodeError,
)
from schemas.avro.fingerprint import fingerprint_hex
from schemas.avro.framing import CONFLUENT_HEADER_SIZE, SINGLE_OBJECT_HEADER_SIZE
from schemas.avro.registry import WriterSchemaRegistry
from schemas.avro.resolution import Patch, compile_patch
from schemas.avro.writer_schema import WriterSchema, millis_schema, parse_writer_schema
from schemas.avro.zero_width import ZeroWidthItemsError

WireFormat = Literal["single-object", "confluent"]

_SINGLE_OBJECT_FIRST: Final = 0xC3
_SINGLE_OBJECT_SECOND: Final = 0x01
_CONFLUENT_FIRST: Final = 0x00
# Unknown schema ids are remembered for a while, so that a flood of one bad id does not flood
# the registry, but not for ever: a registry replica may learn a new id a moment late.
_MAX_REMEMBERED_IDS: Final = 4096
_UNKNOWN_ID_TTL_S: Final = 30.0
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """`record_type` is the short name (`CustomerCreated`, ...); `datum` follows the newest
    shipped reader schema, with `date` for date and, for timestamp-millis, `datetime` (UTC) or,
    from a decoder built with `timestamps_as_millis=True`, the epoch milliseconds (`int`)."""

    record_type: str
    datum: dict[str, Any]
    wire_format: WireFormat


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to read the bodies of one writer schema: parsed once, reused for every message."""

    record_type: str
    writer: Any
    # None when no full schema resolution is needed: the writer is the reader, or `patch`
    # turns what the writer alone reads into the reader's form (see resolution.py).
    reader: Any
    patch: Patch | None
    label: str
    # The reader generated for `writer` (None: fastavro reads every message).
    fast: CompiledReader | None = None


class EventDecoder:
    """Thread-compatible: plans are built lazily and published by a single dict assignment.

    `timestamps_as_millis`: leave timestamp-millis values as the epoch milliseconds Avro
    carries instead of making `datetime`s of them (about a tenth of the decoding time; the
    mapper reads both forms). An out-of-range timestamp then reaches the mapper, which refuses
    it as `map.invalid_timestamp`, rather than failing the decoding.
    """

    def __init__(
        self,
        registry: WriterSchemaRegistry,
        confluent: ConfluentRegistryClient | None = None,
        *,
        timestamps_as_millis: bool = False,
    ) -> None:
        self._registry = registry
        self._confluent = confluent
        self._timestamps_as_millis = timestamps_as_millis
        self._by_fingerprint: dict[bytes, _Plan] = {}
        self._by_schema_id: dict[int, _Plan] = {}
        self._unknown_ids: dict[int, float] = {}  # schema id -> remembered until (monotonic)
        self._refused_ids: dict[int, tuple[str, str]] = {}  # schema id -> (class, message)

    def decode(self, value: bytes | None) -> DecodedEvent:
        """Raises DecodeError (dead-letter the value) or TransientDecodeError (retry later)."""
        if not value:
            raise DecodeError(errors.EMPTY_VALUE, "the value is empty")
        first = value[0]
        if first == _SINGLE_OBJECT_FIRST and (len(value) == 1 or value[1] == _SINGLE_OBJECT_SECOND):
            if len(value) < SINGLE_OBJECT_HEADER_SIZE:
                raise DecodeError(errors.TRUNCATED, "single-object value ends inside its header")
            fingerprint = value[2:SINGLE_OBJECT_HEADER_SIZE]
            plan = self._by_fingerprint.get(fingerprint) or self._plan_for_fingerprint(fingerprint)
            return DecodedEvent(
                plan.record_type, _read(plan, value, SINGLE_OBJECT_HEADER_SIZE), "single-object"
            )
        if first == _CONFLUENT_FIRST:
            if len(value) < CONFLUENT_HEADER_SIZE:
                raise DecodeError(errors.TRUNCATED, "Confluent-framed value ends inside its header")
            schema_id = int.from_bytes(value[1:CONFLUENT_HEADER_SIZE], "big")
            plan = self._by_schema_id.get(schema_id) or self._plan_for_schema_id(schema_id)
            return DecodedEvent(
                plan.record_type, _read(plan, value, CONFLUENT_HEADER_SIZE), "confluent"
            )
        raise DecodeError(errors.UNKNOWN_MAGIC, _unknown_magic(value))

    def _plan_for_fingerprint(self, fingerprint: bytes) -> _Plan:
        writer = self._registry.by_fingerprint(fingerprint)
        if writer is None:
            raise DecodeError(
                errors.UNKNOWN_FINGERPRINT,
                f"no known writer schema has fingerprint {fingerprint_hex(fingerprint)}",
            )
        plan = self._plan(writer)
        self._by_fingerprint[fingerprint] = plan
        return plan

    def _plan_for_schema_id(self, schema_id: int) -> _Plan:
        if self._confluent is None:
            raise DecodeError(
                errors.NO_SCHEMA_REGISTRY,
                f"Confluent-framed value (schema id {schema_id}) but no schema registry is set",
            )
        refused = self._refused_ids.get(schema_id)
        if refused is not None:
            raise DecodeError(*refused)
        now = time.monotonic()
        if self._unknown_ids.get(schema_id, 0.0) > now:
            raise _unknown_id(schema_id)
        try:
            found = self._confluent.schema_by_id(schema_id)
        except SchemaNotFoundError:
            _remember(self._unknown_ids, schema_id, now + _UNKNOWN_ID_TTL_S)
            raise _unknown_id(schema_id) from None
        except SchemaRegistryUnavailableError as exc:
            raise TransientDecodeError(str(exc)) from exc
        label = f"schema id {schema_id}"
        try:
            plan = self._plan(_registry_writer(self._registry, found), label)
        except DecodeError as exc:
            # The schema an id names never changes: refuse it again without the parsing work.
            _remember(self._refused_ids, schema_id, (exc.error_class, exc.message))
            raise
        self._by_schema_id[schema_id] = plan
        return plan

    def _plan(self, writer: WriterSchema, label: str | None = None) -> _Plan:
        label = label or f"fingerprint {fingerprint_hex(writer.fingerprint)}"
        if writer.record_type is None:
            raise DecodeError(
                errors.UNKNOWN_RECORD_TYPE, f"writer schema of {label} is not a commerce event"
            )
        reader = self._registry.reader(writer.record_type)
        writer_parsed, reader_parsed = writer.parsed, reader.parsed
        if self._timestamps_as_millis:
            writer_parsed = millis_schema(writer)
            reader_parsed = millis_schema(reader)
        patch = None
        if reader.fingerprint != writer.fingerprint:
            patch = compile_patch(writer_parsed, reader_parsed)
            if patch is None:
                # fastavro resolves writer to reader: no generated reader for this schema.
                return _Plan(writer.record_type, writer_parsed, reader_parsed, None, label)
        fast = compile_reader(writer_parsed, timestamps_as_millis=self._timestamps_as_millis)
        return _Plan(writer.record_type, writer_parsed, None, patch, label, fast)


def _registry_writer(registry: WriterSchemaRegistry, found: RegisteredSchema) -> WriterSchema:
    schema_id = found.schema_id
    if found.schema_type.upper() != "AVRO":
        raise DecodeError(
            errors.INVALID_SCHEMA, f"schema id {schema_id} is a {found.schema_type} schema"
        )
    if found.has_references:
        # Schema references (types defined under other subjects) are not supported yet.
        raise DecodeError(errors.INVALID_SCHEMA, f"schema id {schema_id} uses schema references")
    try:
        parsed = parse_writer_schema(found.schema, origin=f"registry id {schema_id}")
    except ZeroWidthItemsError as exc:
        raise DecodeError(
            errors.INVALID_SCHEMA,
            f"schema id {schema_id} is refused: {exc} (a few bytes could make the reader "
            "allocate without bound)",
        ) from None
    except Exception:
        raise DecodeError(
            errors.INVALID_SCHEMA, f"schema id {schema_id} is not a valid Avro schema"
        ) from None
    # A registry schema equal (in canonical form) to a known one reads like it, so that the
    # decoded values carry the shipped logical types.
    return registry.by_fingerprint(parsed.fingerprint) or parsed


def _remember(cache: dict[int, _T], schema_id: int, entry: _T) -> None:
    if len(cache) >= _MAX_REMEMBERED_IDS:
        cache.clear()
    cache[schema_id] = entry


def _unknown_id(schema_id: int) -> DecodeError:
    return DecodeError(
        errors.UNKNOWN_SCHEMA_ID, f"the schema registry has no schema id {schema_id}"
    )


def _read(plan: _Plan, value: bytes, offset: int) -> dict[str, Any]:
    if plan.fast is not None:
        try:
            datum, end = plan.fast(value, offset)
        except Exception:  # noqa: S110 - fastavro reads it again below and says how it fails
            pass
        else:
            if end == len(value):
                if plan.patch is not None:
                    plan.patch(datum)
                return cast(dict[str, Any], datum)
    stream = BytesIO(value)
    stream.seek(offset)
    try:
        datum = schemaless_reader(stream, plan.writer, plan.reader)
    except (EOFError, IndexError) as exc:
        if not _ran_out(plan, value, offset, exc, stream.tell()):
            raise DecodeError(
                errors.MALFORMED_BODY,
                f"body does not decode with {plan.label} ({type(exc).__name__})",
                record_type=plan.record_type,
            ) from None
        raise DecodeError(
            errors.TRUNCATED,
            f"body ends before the record of {plan.label}",
            record_type=plan.record_type,
        ) from None
    except SchemaResolutionError:
        raise DecodeError(
            errors.SCHEMA_MISMATCH,
            f"writer schema of {plan.label} does not resolve against the reader schema",
            record_type=plan.record_type,
        ) from None
    except Exception as exc:
        # fastavro's messages can quote the data: keep only the exception's kind.
        raise DecodeError(
            errors.MALFORMED_BODY,
            f"body does not decode with {plan.label} ({type(exc).__name__})",
            record_type=plan.record_type,
        ) from None
    if stream.tell() != len(value):
        raise DecodeError(
            errors.MALFORMED_BODY,
            f"{len(value) - stream.tell()} bytes left after the record of {plan.label}",
            record_type=plan.record_type,
        )
    if not isinstance(datum, dict):
        raise DecodeError(errors.MALFORMED_BODY, f"body of {plan.label} is not a record")
    if plan.patch is not None:
        plan.patch(datum)
    return datum


def _unknown_magic(value: bytes) -> str:
    # Both bytes are named: `c3 02` is not single-object framing, although it starts like it.
    start = " ".join(f"0x{byte:02x}" for byte in value[:2])
    noun = "byte" if len(value) == 1 else "bytes"
    return (
        f"the value starts with {noun} {start}, neither single-object (0xc3 0x01) "
        "nor Confluent (0x00) framing"
    )


_MAX_VARINT_BYTES: Final = 10


class _ReadLog(BytesIO):
    """A stream that remembers how its reading ended: whether the last read came up short, and
    how many single bytes read just before it announced that another byte follows."""

    def __init__(self, value: bytes) -> None:
        super().__init__(value)
        self.came_up_short = False
        self.continued = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.came_up_short = size is not None and len(chunk) < size
        if size == 1 and chunk and chunk[0] >= 0x80:
            self.continued += 1
        elif chunk:
            self.continued = 0
        return chunk


def _ran_out(plan: _Plan, value: bytes, offset: int, exc: Exception, position: int) -> bool:
    """Whether the reader failed because `value` ended, rather than on a byte it holds.

    fastavro raises EOFError when a value ends inside a string, bytes or fixed, but IndexError
    both when it ends inside a variable-length integer and for an enum symbol or union branch
    index out of range. The value is read again through a stream that tells them apart: it
    ran out if the last read came up short, within a variable-length integer that could still
    end (no long takes more than ten bytes)."""
    if isinstance(exc, EOFError):
        return True
    if position < len(value):
        return False
    stream = _ReadLog(value)
    stream.seek(offset)
    try:
        schemaless_reader(stream, plan.writer, plan.reader)
    except IndexError:
        return stream.came_up_short and stream.continued < _MAX_VARINT_BYTES
    except Exception:
        return False
    return False
