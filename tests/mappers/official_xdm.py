"""An independent check of records against the OFFICIAL XDM files (schemas/xdm/official/).

Deliberately shares nothing with `schemas.xdm` (resolver, compiled validator, format checks):
the record is turned back into the raw JSON-LD names the official files use (`xdm:firstName`,
`@id`), validated with the `jsonschema` library (Draft 6, as the files declare) with strict
format checks written here, and walked against the files' declared properties, because the
official schemas leave objects open while AEP refuses unknown fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jsonschema import Draft6Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT6

if TYPE_CHECKING:
    from referencing._core import Resolver

OFFICIAL = Path(__file__).resolve().parents[2] / "schemas" / "xdm" / "official"
CLASS_AND_FIELD_GROUPS = (
    "https://ns.adobe.com/xdm/context/profile",
    "https://ns.adobe.com/xdm/context/identitymap",
    "https://ns.adobe.com/xdm/context/profile-person-details",
    "https://ns.adobe.com/xdm/context/profile-personal-details",
    "https://ns.adobe.com/xdm/mixins/profile/profile-user-account-details",
    "https://ns.adobe.com/xdm/common/external-source-system-audit-details",
)
# Namespace prefixes that become `_<prefix>` objects in the XED form.
_PREFIX_OBJECTS = {"_repo": "repo", "_schema": "schema"}

_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)
_URI_REFERENCE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.fullmatch(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    date.fromisoformat(value)
    return len(value) == 10


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    checker.checks("date", raises=ValueError)(_is_date)
    checker.checks("uri-reference")(
        lambda value: not isinstance(value, str) or bool(_URI_REFERENCE.fullmatch(value))
    )
    checker.checks("email")(
        lambda value: not isinstance(value, str) or bool(_EMAIL.fullmatch(value))
    )
    return checker


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(OFFICIAL.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource(contents=contents, specification=DRAFT6)))
    return Registry().with_resources(resources)


@cache
def _validator() -> Draft6Validator:
    root = {
        "$schema": "http://json-schema.org/draft-06/schema#",
        "allOf": [{"$ref": schema_id} for schema_id in CLASS_AND_FIELD_GROUPS],
    }
    return Draft6Validator(root, registry=_registry(), format_checker=_format_checker())


def to_raw(record: Mapping[str, Any]) -> dict[str, Any]:
    """XED field names (what AEP ingests) -> the raw JSON-LD names of the official files."""
    return _object_to_raw(record)


def _object_to_raw(value: Mapping[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for key, item in value.items():
        if key == "_id":
            raw["@id"] = item
        elif key in _PREFIX_OBJECTS:
            for inner, inner_value in item.items():
                raw[f"{_PREFIX_OBJECTS[key]}:{inner}"] = _value_to_raw(inner_value)
        elif key == "identityMap":
            # A map: its keys are namespace symbols, not field names.
            raw["xdm:identityMap"] = {
                namespace: [_object_to_raw(entry) for entry in entries]
                for namespace, entries in item.items()
            }
        else:
            raw[f"xdm:{key}"] = _value_to_raw(item)
    return raw


def _value_to_raw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return _object_to_raw(value)
    if isinstance(value, list):
        return [_value_to_raw(item) for item in value]
    return value


def _declared(node: Mapping[str, Any], resolver: Resolver) -> Iterator[tuple[str, Any, Resolver]]:
    """(raw property name, its schema, the resolver its refs resolve with) of a schema node,
    through `$ref` and `allOf` as the official files compose them."""
    if "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        yield from _declared(resolved.contents, resolved.resolver)
    for part in node.get("allOf", ()):
        yield from _declared(part, resolver)
    for name, schema in node.get("properties", {}).items():
        yield name, schema, resolver


def _items_schema(node: Mapping[str, Any], resolver: Resolver) -> tuple[Any, Resolver] | None:
    if "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        return _items_schema(resolved.contents, resolved.resolver)
    if "items" in node:
        return node["items"], resolver
    return None


def _map_values(node: Mapping[str, Any], resolver: Resolver) -> tuple[Any, Resolver] | None:
    if "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        return _map_values(resolved.contents, resolved.resolver)
    extra = node.get("additionalProperties")
    return (extra, resolver) if isinstance(extra, Mapping) else None


def undeclared_fields(raw: Mapping[str, Any]) -> list[str]:
    """Paths of fields that no official file declares (AEP would refuse them)."""
    root = {"allOf": [{"$ref": schema_id} for schema_id in CLASS_AND_FIELD_GROUPS]}
    found: list[str] = []
    _walk(raw, root, _registry().resolver(), "", found)
    return found


def _walk(value: Any, node: Any, resolver: Resolver, path: str, found: list[str]) -> None:
    if isinstance(value, Mapping):
        values_schema = _map_values(node, resolver)
        if values_schema is not None:
            for key, item in value.items():
                _walk(item, values_schema[0], values_schema[1], f"{path}/{key}", found)
            return
        declared = {name: (schema, res) for name, schema, res in _declared(node, resolver)}
        for key, item in value.items():
            if key not in declared:
                found.append(f"{path}/{key}")
                continue
            schema, res = declared[key]
            _walk(item, schema, res, f"{path}/{key}", found)
    elif isinstance(value, list):
        items = _items_schema(node, resolver)
        if items is None:
            found.append(path)
            return
        for index, item in enumerate(value):
            _walk(item, items[0], items[1], f"{path}/{index}", found)


def official_violations(record: Mapping[str, Any]) -> list[str]:
    """Everything the official schemas (with the audit field group) say against the record."""
    raw = to_raw(record)
    problems = [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.validator}"
        for error in _validator().iter_errors(raw)
    ]
    problems.extend(f"{path}: not declared" for path in undeclared_fields(raw))
    return problems


def empty_parts(value: Any, path: str = "") -> list[str]:
    """Paths of nulls, empty strings, empty objects and empty arrays."""
    if value is None or value == "" or value == {} or value == []:
        return [path or "/"]
    if isinstance(value, Mapping):
        return [p for key, item in value.items() for p in empty_parts(item, f"{path}/{key}")]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in empty_parts(item, f"{path}/{index}")]
    return []
