"""Schema Registry rules: what a tenant schema or field group must look like, and which
changes AEP refuses (docs/AEP.md §3.4, §3.6, §3.8, §3.10). Pure functions over documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from aep_emulator.platform.errors import bad_request
from aep_emulator.platform.xdm_global import class_extends, global_resources
from aep_emulator.resources import Resources, Schema
from schemas.xdm.field_types import field_types, properties_types
from schemas.xdm.resolver import XdmResolutionError, resolve_schema

UNION_TAG: Final = "union"
# Read-only fields the registry assigns; a client's PATCH/PUT cannot change them.
READ_ONLY: Final = (
    "$id",
    "meta:altId",
    "meta:resourceType",
    "meta:containerId",
    "imsOrg",
    "version",
    "meta:registryMetadata",
    "meta:sandboxId",
    "meta:sandboxType",
    "meta:tenantNamespace",
)
# Whether a dataset has received data (the data store answers).
Ingested = Callable[[str], bool]
_FIELD_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")


def not_found_detail(resource_id: str) -> str:
    return f"Object {resource_id} with version 1 not found"


def refs_of(body: Mapping[str, Any]) -> list[str]:
    """The `$ref`s of a document's `allOf`, in order; 400 when `allOf` is malformed."""
    all_of = body.get("allOf", [])
    if not isinstance(all_of, list):
        raise bad_request("allOf must be an array of references")
    refs: list[str] = []
    for item in all_of:
        if not isinstance(item, Mapping) or not isinstance(item.get("$ref"), str):
            raise bad_request("allOf must be an array of references")
        refs.append(str(item["$ref"]))
    return refs


def immutable_tags(body: Mapping[str, Any]) -> list[str]:
    tags = body.get("meta:immutableTags", [])
    if not isinstance(tags, list) or any(t != UNION_TAG for t in tags):
        raise bad_request('meta:immutableTags only accepts the tag "union"')
    return [str(t) for t in tags]


def split_schema_refs(
    resources: Resources, sandbox: str, body: Mapping[str, Any]
) -> tuple[str, list[str]]:
    """(class, field groups) of a schema body; 400 unless exactly one known class and only
    known field groups meant for that class."""
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad_request("title is required")
    classes: list[str] = []
    groups: list[str] = []
    for ref in refs_of(body):
        known = global_resources().get(ref)
        if known is not None and known.kind == "classes":
            classes.append(ref)
        elif known is not None and known.kind == "fieldgroups":
            groups.append(ref)
        else:
            tenant_group = resources.field_groups.find(ref, sandbox)
            if tenant_group is None:
                # The registry names the missing reference with the not-found wording.
                raise bad_request(not_found_detail(ref))
            groups.append(tenant_group.id)
    if len(classes) != 1:
        raise bad_request("A schema must reference exactly one class in allOf")
    for group_id in groups:
        targets = intended_to_extend(resources, group_id)
        if targets and classes[0] not in targets:
            raise bad_request(f"Field group {group_id} cannot be used with class {classes[0]}")
    return classes[0], groups


def intended_to_extend(resources: Resources, group_id: str) -> list[str]:
    known = global_resources().get(group_id)
    if known is not None:
        return known.intended_to_extend
    group = resources.field_groups.find(group_id)
    value = None if group is None else group.body.get("meta:intendedToExtend")
    return [str(v) for v in value] if isinstance(value, list) else []


def schema_extends(class_id: str, groups: Iterable[str]) -> list[str]:
    extends = [class_id, *class_extends(class_id)]
    for group in groups:
        if group not in extends:
            extends.append(group)
    return extends


def check_tenant_fields(body: Mapping[str, Any], tenant_id: str) -> None:
    """A tenant field group's own fields sit under `_{tenant}` (docs/AEP.md §3.8)."""
    wrapper = f"_{tenant_id}"
    if not isinstance(body.get("title"), str) or not str(body["title"]).strip():
        raise bad_request("title is required")
    if not isinstance(body.get("meta:intendedToExtend"), list):
        raise bad_request("meta:intendedToExtend is required for a field group")
    definitions = body.get("definitions", {})
    if not isinstance(definitions, Mapping):
        raise bad_request("definitions must be an object")
    blocks = [d.get("properties", {}) for d in definitions.values() if isinstance(d, Mapping)]
    if isinstance(body.get("properties"), Mapping):
        blocks.append(body["properties"])
    for properties in blocks:
        if not isinstance(properties, Mapping) or any(k != wrapper for k in properties):
            raise bad_request(
                f"For custom fields, you must use a top level field named {wrapper} and all "
                "the custom fields must be placed under it."
            )
        for path in properties_types(properties):
            for name in path.split("/")[2:]:
                if not _FIELD_NAME.match(name) or name.startswith("_"):
                    raise bad_request(
                        "Field names may only contain letters, digits, '-' and '_' and must "
                        "not start with '_'"
                    )


def breaking_field_change(old: Mapping[str, str], new: Mapping[str, str]) -> str | None:
    """Why `new` breaks `old` (a removed or retyped field), or None."""
    for path, kind in old.items():
        if path not in new:
            return f"Field {path} cannot be removed from a schema in use"
        if new[path] != kind:
            return f"Field {path} cannot change its type in a schema in use"
    return None


def tenant_type_conflict(
    resources: Resources, sandbox: str, fields: Mapping[str, str], except_id: str | None
) -> str | None:
    """A field path already defined with another type elsewhere in the tenant
    ("a field defined with a data type cannot be re-created with a different data type")."""
    for group in resources.field_groups.list(sandbox):
        if group.id == except_id:
            continue
        for path, kind in group_fields(group.body).items():
            if path in fields and fields[path] != kind:
                return f"Field {path} is already defined with another type in this tenant"
    return None


def schema_in_use(resources: Resources, schema_id: str, ingested: Callable[[str], bool]) -> bool:
    """AEP's "used" (docs/AEP.md §3.10): referenced by a dataset that is Profile-enabled or has
    received data."""
    return any(
        d.schema_id == schema_id and (d.profile_enabled or ingested(d.id))
        for d in resources.datasets.list()
    )


def check_schema_change(
    old: Schema, new_class: str, new_groups: list[str], new_tags: list[str], in_use: bool
) -> None:
    """Refuse what AEP refuses: dropping the union tag ever; dropping or swapping a class or
    field group once the schema is in use."""
    if old.profile_enabled and UNION_TAG not in new_tags:
        raise bad_request(
            "meta:immutableTags cannot be removed: the union tag is immutable once set"
        )
    if not in_use:
        return
    if new_class != old.class_id:
        raise bad_request("The class of a schema in use cannot be changed")
    removed = [g for g in old.field_group_ids if g not in new_groups]
    if removed:
        raise bad_request(f"Field group {removed[0]} cannot be removed from a schema in use")


def resolved_properties(resources: Resources, refs: list[str]) -> dict[str, Any]:
    """The compatibility-mode properties of a class and field groups (the `xed-full` view),
    resolved by `schemas.xdm` with the tenant's own field groups added."""
    extra = {g.id: g.body for g in resources.field_groups.list()}
    try:
        properties: dict[str, Any] = resolve_schema(refs, extra)["properties"]
    except XdmResolutionError:
        raise bad_request("The schema cannot be resolved") from None
    return properties


def schema_has_field(resources: Resources, schema: Schema, pointer: str) -> bool:
    """Whether `/a/b` names a field of the resolved schema."""
    node: Mapping[str, Any] = {"properties": resolved_properties(resources, schema_refs(schema))}
    for name in pointer.strip("/").split("/"):
        properties = node.get("properties")
        if not isinstance(properties, Mapping) or not isinstance(properties.get(name), Mapping):
            return False
        node = properties[name]
    return True


def schema_refs(schema: Schema) -> list[str]:
    return [schema.class_id, *schema.field_group_ids]


def group_fields(body: Mapping[str, Any]) -> dict[str, str]:
    """Every field a tenant field group defines, formats told apart (a string of another format
    is another type to the Schema Registry)."""
    return field_types(body, formats=True)
