"""Field paths and types of a field group, to spot "a field of another type" (docs/AEP.md
3.10: a field cannot be re-created with a different data type anywhere in the tenant)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _type_of(spec: Mapping[str, Any]) -> str:
    if isinstance(spec.get("$ref"), str):
        return f"ref:{spec['$ref']}"
    kind = str(spec.get("type", "object"))
    if kind == "array" and isinstance(spec.get("items"), Mapping):
        return f"array<{_type_of(spec['items'])}>"
    return kind


def _flatten(properties: Mapping[str, Any], prefix: str, out: dict[str, str]) -> None:
    for name, spec in properties.items():
        if not isinstance(spec, Mapping):
            continue
        path = f"{prefix}/{name}"
        out[path] = _type_of(spec)
        nested = spec.get("properties")
        if isinstance(nested, Mapping):
            _flatten(nested, path, out)


def field_types(group: Mapping[str, Any]) -> dict[str, str]:
    """`/a/b` -> type of every field a field group document defines."""
    out: dict[str, str] = {}
    definitions = group.get("definitions")
    if isinstance(definitions, Mapping):
        for definition in definitions.values():
            if isinstance(definition, Mapping) and isinstance(
                definition.get("properties"), Mapping
            ):
                _flatten(definition["properties"], "", out)
    if isinstance(group.get("properties"), Mapping):
        _flatten(group["properties"], "", out)
    return out
