"""The two notations of Schema Registry documents (docs/AEP.md §3.2, §3.3).

Standard XDM names fields with a namespace prefix (`xdm:birthDate`, `repo:createDate`, `@id`);
AEP's compatibility mode (the `xed` media types) drops `xdm:`, turns `@id` into `_id`, moves any
other prefix into an object `_<prefix>` and records the standard name in `meta:xdmField`. The
official documents in `schemas/xdm/official/` are standard; `schemas.xdm.resolver` resolves in
compatibility mode; these functions convert whole documents either way. Names without a prefix
(tenant fields under `_{tenant}`) are the same in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.xdm.resolver import xed_name

_XDM_FIELD = "meta:xdmField"


def compatibility(node: Any) -> Any:
    """A standard-notation document (or part) in compatibility names."""
    if isinstance(node, list):
        return [compatibility(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    return {
        key: _compatible_properties(value)
        if key == "properties" and isinstance(value, Mapping)
        else compatibility(value)
        for key, value in node.items()
    }


def _compatible_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for raw_name, spec in properties.items():
        converted = compatibility(spec)
        if isinstance(converted, dict) and (":" in raw_name or raw_name == "@id"):
            converted = {**converted, _XDM_FIELD: raw_name}
        wrapper, name = xed_name(raw_name)
        if wrapper is None:
            out[name] = converted
        else:
            holder = out.setdefault(wrapper, {"type": "object", "properties": {}})
            holder["properties"][name] = converted
    return out


def standard(node: Any) -> Any:
    """A compatibility-notation document (or part) in standard names, where each field says
    its standard name in `meta:xdmField` (as resolved and converted documents do)."""
    if isinstance(node, list):
        return [standard(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    return {
        key: _standard_properties(value)
        if key == "properties" and isinstance(value, Mapping)
        else standard(value)
        for key, value in node.items()
        if key != _XDM_FIELD
    }


def _standard_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in properties.items():
        if _is_prefix_holder(name, spec):
            out.update(_standard_properties(spec["properties"]))
            continue
        raw_name = spec.get(_XDM_FIELD) if isinstance(spec, Mapping) else None
        out[str(raw_name) if isinstance(raw_name, str) else name] = standard(spec)
    return out


def _is_prefix_holder(name: str, spec: Any) -> bool:
    """`_repo: {properties: {createDate: {meta:xdmField: repo:createDate}}}` and the like."""
    if not name.startswith("_") or not isinstance(spec, Mapping):
        return False
    children = spec.get("properties")
    if not isinstance(children, Mapping) or not children:
        return False
    prefix = f"{name[1:]}:"
    return all(
        isinstance(child, Mapping) and str(child.get(_XDM_FIELD, "")).startswith(prefix)
        for child in children.values()
    )
