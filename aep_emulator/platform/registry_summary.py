"""Schema Registry overviews: `GET /stats` and the tenant unions (docs/AEP.md §3.1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from aep_emulator.platform import accept as acc
from aep_emulator.platform import registry_rules as rules
from aep_emulator.platform import registry_views as views
from aep_emulator.platform.errors import not_found
from aep_emulator.platform.gateway import Call, json_response
from aep_emulator.platform.registry_views import TenantResource
from aep_emulator.resources import alt_id


def _unions(call: Call) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """One union per class that has union-tagged schemas: its document and member refs."""
    members: dict[str, list[str]] = {}
    for schema in call.resources.schemas.list(call.sandbox):
        if schema.profile_enabled:
            refs = members.setdefault(schema.class_id, [schema.class_id])
            refs += [g for g in schema.field_group_ids if g not in refs]
    out: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for class_id, refs in members.items():
        union_id = f"{class_id}__union"
        doc = {
            "$id": union_id,
            "meta:altId": f"{alt_id(class_id)}__union",
            "meta:resourceType": "unions",
            "meta:containerId": "tenant",
            "version": "1.0",
            "title": f"Union object for {class_id}",
            "type": "object",
            "meta:class": class_id,
            "meta:extends": rules.schema_extends(class_id, refs[1:]),
            "allOf": [{"$ref": ref} for ref in refs],
        }
        out[union_id] = (doc, refs)
    return out


async def list_unions(call: Call) -> Response:
    accept = acc.for_list(call.request.headers.get("accept"))
    return views.page(call, [doc for doc, _ in _unions(call).values()], accept, "unions")


async def get_union(call: Call) -> Response:
    accept = acc.for_lookup(call.request.headers.get("accept"))
    key = str(call.request.path_params["rid"])
    for doc, refs in _unions(call).values():
        if key in (doc["$id"], doc["meta:altId"]):
            return json_response(views.view(call, dict(doc), refs, accept))
    raise not_found(rules.not_found_detail(key))


def _summary(call: Call, resource: TenantResource, kind: str) -> dict[str, Any]:
    return {
        "title": resource.title,
        "description": resource.body.get("description", ""),
        "meta:resourceType": kind,
        "meta:created": resource.created_ms,
        "meta:updated": resource.updated_ms,
        "version": resource.version,
        "meta:altId": resource.alt_id,
        "$id": resource.id,
    }


async def stats(call: Call) -> Response:
    resources = call.resources
    schemas = resources.schemas.list(call.sandbox)
    groups = resources.field_groups.list(call.sandbox)
    everything = [(_summary(call, s, "schemas")) for s in schemas] + [
        _summary(call, g, "mixins") for g in groups
    ]
    usage: dict[str, list[dict[str, Any]]] = {}
    for schema in schemas:
        usage.setdefault(schema.class_id, []).append(
            {
                "$id": schema.id,
                "title": schema.title,
                "description": schema.body.get("description", ""),
            }
        )
    union_classes = {s.class_id for s in schemas if s.profile_enabled}
    return json_response(
        {
            "imsOrg": call.org_id,
            "tenantId": call.tenant_id,
            "counts": {
                "schemas": len(schemas),
                "mixins": len(groups),
                "datatypes": 0,
                "classes": 0,
                "unions": len(union_classes),
            },
            "recentlyCreatedResources": sorted(
                everything, key=lambda r: r["meta:created"], reverse=True
            )[:5],
            "recentlyUpdatedResources": sorted(
                everything, key=lambda r: r["meta:updated"], reverse=True
            )[:5],
            "classUsage": usage,
        }
    )


def empty_list(kind: str) -> Callable[[Call], Any]:
    """Tenant classes and data types: the emulator creates none, but lists answer."""

    async def run(call: Call) -> Response:
        accept = acc.for_list(call.request.headers.get("accept"))
        return views.page(call, [], accept, kind)

    return run
