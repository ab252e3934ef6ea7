"""Field paths and types of a field group document."""

from __future__ import annotations

from schemas.xdm.field_types import field_types, properties_types

GROUP = {
    "definitions": {
        "part": {
            "properties": {
                "_acme": {
                    "type": "object",
                    "properties": {
                        "email": {"type": "string", "format": "email"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "home": {"$ref": "https://ns.adobe.com/xdm/common/address"},
                    },
                }
            }
        }
    },
    "properties": {"_acme": {"type": "object", "properties": {"score": {"type": "number"}}}},
}


def test_types_of_definitions_and_top_level_properties() -> None:
    assert field_types(GROUP) == {
        "/_acme": "object",
        "/_acme/email": "string",
        "/_acme/tags": "array<string>",
        "/_acme/home": "ref:https://ns.adobe.com/xdm/common/address",
        "/_acme/score": "number",
    }


def test_formats_tell_string_fields_apart() -> None:
    assert field_types(GROUP, formats=True)["/_acme/email"] == "string:email"
    assert properties_types({"d": {"type": "string", "format": "date"}}, formats=True) == {
        "/d": "string:date"
    }


def test_non_object_entries_are_skipped() -> None:
    assert properties_types({"a": "not a schema", "b": {"type": "integer"}}) == {"/b": "integer"}
