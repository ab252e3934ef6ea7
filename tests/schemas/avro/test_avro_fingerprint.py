"""Fingerprints and canonical forms agree with Apache Avro's Java implementation."""

from __future__ import annotations

import json

import pytest
from fastavro import parse_schema

from schemas.avro import WriterSchemaRegistry, canonical_form, fingerprint, fingerprint_hex
from schemas.avro.framing import single_object_header
from tests.schemas.avro.avro_testdata import VECTORS

JAVA = json.loads((VECTORS / "schemas.json").read_text(encoding="utf-8"))


def test_known_answer_of_the_spec_for_int() -> None:
    fp = fingerprint(parse_schema("int"))
    assert fingerprint_hex(fp) == "7275d51a3f395c8f"
    assert single_object_header(fp).hex(" ") == "c3 01 8f 5c 39 3f 1a d5 75 72"


def test_known_answer_matches_the_java_single_object_bytes() -> None:
    # Java wrote "int" 42 (zig-zag 0x54) with BinaryMessageEncoder.
    java = bytes.fromhex((VECTORS / "int.known-answer.hex").read_text().strip())
    assert java == single_object_header(fingerprint(parse_schema("int"))) + b"\x54"


@pytest.mark.parametrize("name", sorted(k for k in JAVA if k != "int"))
def test_shipped_schema_matches_java(registry: WriterSchemaRegistry, name: str) -> None:
    record_type, version = name.split(".v")
    schema = registry.shipped(record_type, int(version))
    assert schema.canonical_form == JAVA[name]["canonical_form"]
    assert fingerprint_hex(schema.fingerprint) == JAVA[name]["fingerprint"]
    assert canonical_form(schema.parsed) == schema.canonical_form


def test_java_covered_every_shipped_version(registry: WriterSchemaRegistry) -> None:
    shipped = {f"{s.record_type}.v{s.version}" for s in registry if s.version is not None}
    assert shipped == {k for k in JAVA if k != "int"}


def test_canonical_form_drops_doc_default_aliases_and_logical_type() -> None:
    plain = {"type": "record", "name": "R", "namespace": "n", "fields": [
        {"name": "t", "type": "long"}]}  # fmt: skip
    decorated = {"type": "record", "name": "R", "namespace": "n", "doc": "d", "aliases": ["Q"],
        "fields": [{"name": "t", "type": {"type": "long", "logicalType": "timestamp-millis"},
                    "default": 0, "doc": "x"}]}  # fmt: skip
    assert fingerprint(parse_schema(plain)) == fingerprint(parse_schema(decorated))
    assert canonical_form(parse_schema(plain)) == (
        '{"name":"n.R","type":"record","fields":[{"name":"t","type":"long"}]}'
    )
