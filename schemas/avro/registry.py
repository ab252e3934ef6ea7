"""The known writer schemas, keyed by fingerprint, and the reader schema of each record type."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from schemas.avro.errors import SchemaLoadError
from schemas.avro.record_types import NAMESPACE, RECORD_TYPES, full_name, short_name
from schemas.avro.writer_schema import WriterSchema, parse_writer_schema

_SHIPPED_FILE = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.avsc")


class WriterSchemaRegistry:
    """Every shipped schema version plus those of an extra directory, by CRC-64-AVRO fingerprint.

    Two schemas that differ only in what the Parsing Canonical Form drops (doc, default,
    aliases, logicalType) share a fingerprint and decode the same bytes; the registry keeps one
    per fingerprint: the newest shipped version, else the first extra file in path order, so
    that decoded values carry the shipped logical types.
    """

    def __init__(self, schemas: list[WriterSchema]) -> None:
        self._by_fingerprint: dict[bytes, WriterSchema] = {}
        self._shipped: dict[str, dict[int, WriterSchema]] = {name: {} for name in RECORD_TYPES}
        for schema in schemas:
            self._add(schema)
        for record_type, versions in self._shipped.items():
            if not versions:
                raise SchemaLoadError(f"no shipped schema for record type {record_type}")
        self._readers = {
            record_type: versions[max(versions)] for record_type, versions in self._shipped.items()
        }

    @classmethod
    def load(cls, extra_dir: Path | None = None) -> WriterSchemaRegistry:
        """Load the shipped versions, then every `*.avsc` under `extra_dir` (recursively).

        Raises SchemaLoadError naming the file when one cannot be used.
        """
        schemas = _load_shipped()
        if extra_dir is not None:
            schemas.extend(_load_extra(extra_dir))
        return cls(schemas)

    def _add(self, schema: WriterSchema) -> None:
        if schema.version is not None and schema.record_type is not None:
            self._shipped[schema.record_type][schema.version] = schema
        known = self._by_fingerprint.get(schema.fingerprint)
        if known is None or _prefer(schema, known):
            self._by_fingerprint[schema.fingerprint] = schema

    def by_fingerprint(self, fingerprint: bytes) -> WriterSchema | None:
        return self._by_fingerprint.get(fingerprint)

    def reader(self, record_type: str) -> WriterSchema:
        """The reader schema of a record type (short or full name): its newest shipped version."""
        return self._readers[_short(record_type)]

    def shipped(self, record_type: str, version: int | None = None) -> WriterSchema:
        """A shipped version of a record type (the newest when `version` is None); KeyError if
        there is no such version."""
        versions = self._shipped[_short(record_type)]
        return versions[max(versions) if version is None else version]

    def __iter__(self) -> Iterator[WriterSchema]:
        return iter(self._by_fingerprint.values())

    def __len__(self) -> int:
        return len(self._by_fingerprint)


def _short(record_type: str) -> str:
    name = short_name(full_name(record_type))
    assert name is not None  # full_name only returns known names
    return name


def _prefer(new: WriterSchema, known: WriterSchema) -> bool:
    """Whether `new` replaces `known` for their shared fingerprint."""
    if new.version is None:
        return False
    return known.version is None or new.version > known.version


def _load_shipped() -> list[WriterSchema]:
    folder = resources.files("schemas.avro").joinpath(NAMESPACE)
    schemas: list[WriterSchema] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".avsc"):
            continue
        match = _SHIPPED_FILE.fullmatch(entry.name)
        if match is None:
            raise SchemaLoadError(f"shipped schema file name is not <Type>.v<N>.avsc: {entry.name}")
        schema = _parse(entry.read_text(encoding="utf-8"), entry.name, int(match["version"]))
        if schema.full_name != f"{NAMESPACE}.{match['name']}" or schema.record_type is None:
            raise SchemaLoadError(f"{entry.name} defines {schema.full_name}, not its file's type")
        schemas.append(schema)
    return schemas


def _load_extra(extra_dir: Path) -> list[WriterSchema]:
    if not extra_dir.is_dir():
        raise SchemaLoadError(f"extra Avro schema directory does not exist: {extra_dir}")
    schemas: list[WriterSchema] = []
    for path in sorted(extra_dir.rglob("*.avsc")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SchemaLoadError(f"cannot read {path}: {type(exc).__name__}") from None
        schema = _parse(text, str(path), None)
        if not isinstance(schema.parsed, dict) or schema.parsed.get("type") != "record":
            raise SchemaLoadError(f"{path} is not an Avro record schema")
        schemas.append(schema)
    return schemas


def _parse(text: str, origin: str, version: int | None) -> WriterSchema:
    try:
        return parse_writer_schema(text, origin=origin, version=version)
    except Exception as exc:
        # Parse errors quote schema text, which holds no record data.
        reason = f"{type(exc).__name__}: {exc}"[:300]
        raise SchemaLoadError(f"{origin} is not a valid Avro schema ({reason})") from exc
