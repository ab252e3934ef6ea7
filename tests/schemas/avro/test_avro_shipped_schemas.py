"""The shipped schema files: complete history, consistent named types, the contract's fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.avro import RECORD_TYPES, SchemaLoadError, WriterSchemaRegistry
from tests.schemas.avro.avro_testdata import NEWER_DIR, shipped_schema


def _load(name: str) -> dict[str, Any]:
    return shipped_schema(name)


def _named(schema: Any, found: dict[str, Any]) -> dict[str, Any]:
    """Every named type defined in a schema document, by name."""
    if isinstance(schema, list):
        for branch in schema:
            _named(branch, found)
    elif isinstance(schema, dict):
        if schema.get("type") == "record":
            found[schema["name"]] = schema
            for f in schema["fields"]:
                _named(f["type"], found)
        for key in ("items", "values"):
            if key in schema:
                _named(schema[key], found)
    return found


def _field_names(record: dict[str, Any]) -> list[str]:
    return [f["name"] for f in record["fields"]]


def test_every_record_type_has_a_reader(registry: WriterSchemaRegistry) -> None:
    assert {registry.reader(t).record_type for t in RECORD_TYPES} == set(RECORD_TYPES)
    shipped = sorted((s.record_type, s.version) for s in registry)
    assert shipped == [
        ("CustomerCreated", 1),
        ("CustomerCreated", 2),
        ("CustomerDeleted", 1),
        ("CustomerUpdated", 1),
        ("CustomerUpdated", 2),
    ]
    assert registry.reader("commerce.customer.v1.CustomerCreated").version == 2


def test_versions_have_distinct_fingerprints(registry: WriterSchemaRegistry) -> None:
    assert len({s.fingerprint for s in registry}) == len(list(registry)) == 5


def test_v2_adds_is_subscribed_with_a_null_default() -> None:
    for record_type in ("CustomerCreated", "CustomerUpdated"):
        v1 = _named(_load(f"{record_type}.v1"), {})["Customer"]
        v2 = _named(_load(f"{record_type}.v2"), {})["Customer"]
        assert [n for n in _field_names(v2) if n not in _field_names(v1)] == ["is_subscribed"]
        added = next(f for f in v2["fields"] if f["name"] == "is_subscribed")
        assert added["type"] == ["null", "boolean"]
        assert added["default"] is None


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_named_types_are_identical_across_files(version: str) -> None:
    created = _named(_load(f"CustomerCreated.{version}"), {})
    updated = _named(_load(f"CustomerUpdated.{version}"), {})
    deleted = _named(_load("CustomerDeleted.v1"), {})
    for name in ("Customer", "Address", "Region", "CommerceScope"):
        assert created[name] == updated[name]
    assert created["CommerceScope"] == deleted["CommerceScope"]


def test_contract_fields_in_the_newest_version() -> None:
    named = _named(_load("CustomerUpdated.v2"), {})
    envelope = ["event_id", "event_time", "source", "scope"]
    assert _field_names(named["CustomerUpdated"]) == [*envelope, "customer"]
    assert _field_names(_load("CustomerDeleted.v1")) == [
        *envelope, "customer_id", "email", "website_id"]  # fmt: skip
    assert _field_names(named["CommerceScope"]) == ["website_code", "store_code", "store_view_code"]
    assert _field_names(named["Region"]) == ["region", "region_code", "region_id"]
    assert set(_field_names(named["Customer"])) == {
        "id", "email", "firstname", "lastname", "middlename", "prefix", "suffix", "dob", "gender",
        "taxvat", "website_id", "store_id", "group_id", "created_at", "updated_at", "created_in",
        "is_active", "default_billing", "default_shipping", "addresses", "is_subscribed",
        "custom_attributes"}  # fmt: skip
    assert set(_field_names(named["Address"])) == {
        "id", "firstname", "lastname", "middlename", "prefix", "suffix", "company", "street",
        "city", "region", "postcode", "country_id", "telephone", "fax", "vat_id",
        "default_billing", "default_shipping"}  # fmt: skip


def test_doc_only_variant_in_extra_dir_shares_the_fingerprint(tmp_path: Path) -> None:
    variant = _load("CustomerUpdated.v2")
    variant["doc"] = "same schema, other words"
    (tmp_path / "variant.avsc").write_text(json.dumps(variant), encoding="utf-8")
    loaded = WriterSchemaRegistry.load(tmp_path)
    shipped = loaded.shipped("CustomerUpdated", 2)
    assert loaded.by_fingerprint(shipped.fingerprint) is shipped
    assert len(list(loaded)) == 5


def test_extra_dir_adds_a_newer_writer(tmp_path: Path) -> None:
    loaded = WriterSchemaRegistry.load(NEWER_DIR)
    extra = [s for s in loaded if s.version is None]
    assert [(s.record_type, s.origin.endswith("CustomerUpdated.newer.avsc")) for s in extra] == [
        ("CustomerUpdated", True)
    ]
    assert loaded.reader("CustomerUpdated").version == 2


@pytest.mark.parametrize(
    ("content", "reason"),
    [("{not json", "not a valid Avro schema"), ('"string"', "not an Avro record schema"),
     ('{"type": "record", "name": "R", "fields": [{"name": "a", "type": "nope"}]}',
      "not a valid Avro schema")],
)  # fmt: skip
def test_extra_dir_refuses_unusable_files(tmp_path: Path, content: str, reason: str) -> None:
    (tmp_path / "bad.avsc").write_text(content, encoding="utf-8")
    with pytest.raises(SchemaLoadError, match=reason):
        WriterSchemaRegistry.load(tmp_path)


def test_missing_extra_dir_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaLoadError, match="does not exist"):
        WriterSchemaRegistry.load(tmp_path / "absent")
