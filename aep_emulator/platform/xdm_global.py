"""The Schema Registry's `global` container: Adobe's standard XDM resources.

Served from the verbatim adobe/xdm copies in `schemas/xdm/official/` (the project's one home
of XDM definitions), never from a second copy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources as package_files
from typing import Any, Final

import orjson

from aep_emulator.resources import alt_id
from schemas.xdm.ids import PROFILE_CLASS_ID

RECORD_BEHAVIOR_ID: Final = "https://ns.adobe.com/xdm/data/record"
TIME_SERIES_BEHAVIOR_ID: Final = "https://ns.adobe.com/xdm/data/time-series"
_CLASSES: Final = frozenset({PROFILE_CLASS_ID})
_BEHAVIORS: Final = frozenset({RECORD_BEHAVIOR_ID})


@dataclass(frozen=True)
class GlobalResource:
    id: str
    kind: str  # "classes" | "fieldgroups" | "datatypes" | "behaviors"
    document: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.document.get("title", ""))

    @property
    def intended_to_extend(self) -> list[str]:
        value = self.document.get("meta:intendedToExtend")
        return [str(v) for v in value] if isinstance(value, list) else []

    def render(self) -> dict[str, Any]:
        """The raw registry form: the official document plus the registry's meta fields."""
        resource_type = "mixins" if self.kind == "fieldgroups" else self.kind
        return {
            **self.document,
            "meta:altId": alt_id(self.id),
            "meta:resourceType": resource_type,
            "meta:containerId": "global",
            "version": "1.0",
        }


@functools.cache
def global_resources() -> dict[str, GlobalResource]:
    """Every official resource by `$id`."""
    folder = package_files.files("schemas").joinpath("xdm", "official")
    found: dict[str, GlobalResource] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".schema.json"):
            continue
        document = orjson.loads(entry.read_bytes())
        resource_id = str(document["$id"])
        if resource_id in _CLASSES:
            kind = "classes"
        elif resource_id in _BEHAVIORS:
            kind = "behaviors"
        elif "meta:intendedToExtend" in document:
            kind = "fieldgroups"
        else:
            kind = "datatypes"
        found[resource_id] = GlobalResource(resource_id, kind, document)
    return found


def global_resource(kind: str, id_or_alt_id: str) -> GlobalResource | None:
    for resource in global_resources().values():
        if resource.kind == kind and id_or_alt_id in (resource.id, alt_id(resource.id)):
            return resource
    return None


def class_extends(class_id: str) -> list[str]:
    """What a schema of this class extends besides the class (its behaviour, ...)."""
    resource = global_resources().get(class_id)
    if resource is None:
        return []
    extends = resource.document.get("meta:extends")
    return [str(e) for e in extends] if isinstance(extends, list) else []
