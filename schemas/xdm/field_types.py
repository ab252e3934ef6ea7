"""Field paths and types of a field group, to spot "a field of another type" (docs/AEP.md §3.10:
a field cannot be re-created with a different data type anywhere in the tenant).

Shared by `init`'s plan (which compares types only) and the emulator's Schema Registry (which
also tells formats apart).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _type_of(spec: Mapping[str, Any], formats: bool) -> str:
    if isinstance(spec.get("$ref"), str):
        return f"ref:{spec['$ref']}"
    kind = str(spec.get("type", "object"))
    if kind == "array" and isinstance(spec.get("items"), Mapping):
        return f"array<{_type_of(spec['items'], formats)}>"
    if formats and "format" in spec:
        return f"{kind}:{spec['format']}"
    return kind


def properties_types(
    properties: Mapping[str, Any], *, formats: bool = False, prefix: str = ""
) -> dict[str, str]:
    """`/a/b` -> type (`ref:<id>`, `array<...>`, or `type:format` with `formats`) of every field
    of a `properties` block, nested objects included."""
    out: dict[str, str] = {}
    for name, spec in properties.items():
        if not isinstance(spec, Mapping):
            continue
        path = f"{prefix}/{name}"
        out[path] = _type_of(spec, formats)
        nested = spec.get("properties")
        if isinstance(nested, Mapping):
            out.update(properties_types(nested, formats=formats, prefix=path))
    return out


def field_types(group: Mapping[str, Any], *, formats: bool = False) -> dict[str, str]:
    """`/a/b` -> type of every field a field group document defines (its definitions and its
    top-level properties)."""
    out: dict[str, str] = {}
    definitions = group.get("definitions")
    if isinstance(definitions, Mapping):
        for definition in definitions.values():
            if isinstance(definition, Mapping) and isinstance(
                definition.get("properties"), Mapping
            ):
                out.update(properties_types(definition["properties"], formats=formats))
    if isinstance(group.get("properties"), Mapping):
        out.update(properties_types(group["properties"], formats=formats))
    return out
