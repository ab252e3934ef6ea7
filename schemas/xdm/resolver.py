"""From the official XDM files to the JSON Schema of a record as AEP ingests it.

AEP's streaming inlet takes records in the XED ("compatibility mode") form of the raw XDM
names: the `xdm:` prefix is dropped, `@id` becomes `_id`, any other prefix becomes an object
`_<prefix>` holding the field (`repo:createDate` -> `_repo.createDate`), tenant fields already
sit under `_{tenant}`. The resolver expands every `$ref` and `allOf`, keeps only the fields the
class and the chosen field groups contribute, closes every object (`additionalProperties:
false`, as AEP refuses unknown keys) and records each field's raw name in `meta:xdmField`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Final

from schemas.xdm.ids import TENANT_FIELD_GROUP_TITLE, tenant_field_group_id
from schemas.xdm.options import XdmOptions, field_group_ids

JsonSchema = dict[str, Any]

_EXTENSIBLE_ID: Final = "https://ns.adobe.com/xdm/common/extensible"
_TENANT_PLACEHOLDER: Final = "{TENANT_ID}"
_TENANT_FILE: Final = "commerce-fields.fieldgroup.json"

# Validation keywords a resolved node keeps, and annotations worth keeping for readers
# (the Schema Registry's xed-full view shows the same ones).
_KEPT: Final = (
    "title",
    "description",
    "type",
    "format",
    "pattern",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "required",
    "default",
    "meta:enum",
    "meta:xdmType",
    "meta:status",
)
_ANNOTATIONS_FROM_REFERRER: Final = ("title", "description", "meta:status")


class XdmResolutionError(ValueError):
    """The XDM files do not resolve (a broken `$ref`, two definitions of one field)."""


@cache
def official_documents() -> Mapping[str, JsonSchema]:
    """Every shipped official XDM file, by `$id` (read once; callers must not mutate)."""
    documents: dict[str, JsonSchema] = {}
    folder = resources.files("schemas.xdm") / "official"
    for entry in folder.iterdir():
        if entry.name.endswith(".schema.json"):
            document = json.loads(entry.read_text(encoding="utf-8"))
            documents[document["$id"]] = document
    return documents


def tenant_field_group(tenant_id: str) -> JsonSchema:
    """The tenant field group as the body of `POST /tenant/fieldgroups` (docs/AEP.md §3.8)."""
    XdmOptions(tenant_fields=True, tenant_id=tenant_id)  # validates the tenant id
    text = (resources.files("schemas.xdm") / "tenant" / _TENANT_FILE).read_text(encoding="utf-8")
    document: JsonSchema = json.loads(text.replace(_TENANT_PLACEHOLDER, tenant_id))
    if document.get("title") != TENANT_FIELD_GROUP_TITLE:
        raise XdmResolutionError(
            "tenant field group title differs from ids.TENANT_FIELD_GROUP_TITLE"
        )
    return document


def xed_name(raw_name: str) -> tuple[str | None, str]:
    """(`_<prefix>` wrapper or None, field name) for a raw XDM property name."""
    if raw_name == "@id":
        return None, "_id"
    prefix, colon, local = raw_name.partition(":")
    if not colon:
        return None, raw_name
    if prefix == "xdm":
        return None, local
    return f"_{prefix}", local


class _Resolver:
    def __init__(self, documents: Mapping[str, JsonSchema]) -> None:
        self._documents = documents

    def _deref(self, ref: str, base: str) -> tuple[JsonSchema | None, str]:
        doc_id, _, fragment = ref.partition("#")
        doc_id = doc_id or base
        if doc_id == _EXTENSIBLE_ID:
            return None, doc_id  # the JSON-LD @context: adds no data fields
        try:
            node: Any = self._documents[doc_id]
            for token in filter(None, fragment.split("/")):
                node = node[token.replace("~1", "/").replace("~0", "~")]
        except KeyError as exc:
            raise XdmResolutionError(f"unresolvable $ref {ref}") from exc
        return node, doc_id

    def resolve(self, schema: JsonSchema, base: str) -> JsonSchema:
        if "$ref" in schema:
            target, target_base = self._deref(schema["$ref"], base)
            if target is None:
                return {}
            resolved = self.resolve(target, target_base)
            for key in _ANNOTATIONS_FROM_REFERRER:
                if key in schema:
                    resolved[key] = schema[key]
            return resolved
        out: JsonSchema = {key: copy.deepcopy(schema[key]) for key in _KEPT if key in schema}
        properties: dict[str, JsonSchema] = {}
        for part in schema.get("allOf", ()):
            _merge_properties(properties, self.resolve(part, base).get("properties", {}))
        for raw_name, sub in schema.get("properties", {}).items():
            _add_property(properties, raw_name, self.resolve(sub, base))
        additional = schema.get("additionalProperties")
        if properties:
            out["type"] = "object"
            out["properties"] = properties
            out["additionalProperties"] = False
        elif isinstance(additional, dict):
            out["additionalProperties"] = self.resolve(additional, base)
        if "items" in schema:
            out["items"] = self.resolve(schema["items"], base)
        return out


def _add_property(properties: dict[str, JsonSchema], raw_name: str, schema: JsonSchema) -> None:
    wrapper, name = xed_name(raw_name)
    if ":" in raw_name or raw_name == "@id":
        schema = {**schema, "meta:xdmField": raw_name}
    if wrapper is None:
        _merge_properties(properties, {name: schema})
        return
    holder: JsonSchema = {
        "type": "object",
        "properties": {name: schema},
        "additionalProperties": False,
    }
    _merge_properties(properties, {wrapper: holder})


def _merge_properties(into: dict[str, JsonSchema], new: Mapping[str, JsonSchema]) -> None:
    for name, schema in new.items():
        existing = into.get(name)
        if existing is None:
            into[name] = schema
        elif "properties" in existing and "properties" in schema:
            _merge_properties(existing["properties"], schema["properties"])
        elif existing != schema:
            raise XdmResolutionError(f"field {name} is defined twice, differently")


def resolve_schema(
    ids: Iterable[str], extra_documents: Mapping[str, JsonSchema] | None = None
) -> JsonSchema:
    """The resolved record schema of a class and field groups given by `$id`."""
    documents = {**official_documents(), **(extra_documents or {})}
    resolver = _Resolver(documents)
    ids = list(ids)
    properties: dict[str, JsonSchema] = {}
    for schema_id in ids:
        if schema_id not in documents:
            raise XdmResolutionError(f"unknown XDM class or field group {schema_id}")
        _merge_properties(
            properties, resolver.resolve({"$ref": schema_id}, schema_id)["properties"]
        )
    return {
        "$schema": "http://json-schema.org/draft-06/schema#",
        "title": "Commerce customer profile record (XED field names)",
        "type": "object",
        "meta:class": ids[0],
        "meta:extends": ids,
        "properties": properties,
        "additionalProperties": False,
    }


@lru_cache(maxsize=16)
def _resolved(options: XdmOptions) -> str:
    extra: dict[str, JsonSchema] = {}
    if options.tenant_fields:
        assert options.tenant_id is not None  # checked in XdmOptions.__post_init__
        extra[tenant_field_group_id(options.tenant_id)] = tenant_field_group(options.tenant_id)
    return json.dumps(resolve_schema(field_group_ids(options), extra))


def resolved_profile_schema(options: XdmOptions) -> JsonSchema:
    """JSON Schema of the record the mapper emits, in the field names AEP ingests (a fresh copy)."""
    result: JsonSchema = json.loads(_resolved(options))
    return result
