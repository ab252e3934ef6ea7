"""Schema Registry API (`/data/foundation/schemaregistry`, docs/AEP.md §3): the global
container (official XDM class, field groups, data types) and tenant schemas (create, list with
`property` filters, lookup by `$id` or `meta:altId`, JSON-Patch, PUT, DELETE). Field groups,
descriptors, stats and unions have their own modules; `routes` gathers them all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Final

from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.platform import accept as acc
from aep_emulator.platform import field_groups, notation
from aep_emulator.platform import registry_rules as rules
from aep_emulator.platform import registry_summary as summary
from aep_emulator.platform import registry_views as views
from aep_emulator.platform.errors import bad_request, not_found
from aep_emulator.platform.gateway import (
    Call,
    OrgBindings,
    PlatformState,
    json_response,
    route_maker,
)
from aep_emulator.platform.registry_rules import Ingested
from aep_emulator.platform.registry_views import BASE
from aep_emulator.platform.xdm_global import GlobalResource, global_resource, global_resources
from aep_emulator.resources import DuplicateResource, Schema

_KIND_ALIASES: Final = {"mixins": "fieldgroups"}


def _global_kind(call: Call) -> str:
    kind = str(call.request.path_params["kind"])
    kind = _KIND_ALIASES.get(kind, kind)
    # Adobe ships no standard schemas here, so `global/schemas` lists nothing.
    if kind not in ("classes", "fieldgroups", "datatypes", "behaviors", "schemas"):
        raise not_found(f"Unknown resource type {kind}")
    return kind


def _global_refs(resource: GlobalResource) -> list[str]:
    return [resource.id] if resource.kind in ("classes", "fieldgroups") else []


async def list_global(call: Call) -> Response:
    accept = acc.for_list(call.request.headers.get("accept"))
    kind = _global_kind(call)
    docs = [_in_notation(r.render(), accept) for r in global_resources().values() if r.kind == kind]
    return views.page(call, docs, accept, kind)


def _in_notation(document: dict[str, Any], accept: acc.Accept) -> dict[str, Any]:
    """An official (standard-notation) document in the notation the client asked for."""
    if accept.standard:
        return document
    converted: dict[str, Any] = notation.compatibility(document)
    return converted


async def get_global(call: Call) -> Response:
    accept = acc.for_lookup(call.request.headers.get("accept"))
    kind = _global_kind(call)
    resource_id = str(call.request.path_params["rid"])
    resource = global_resource(kind, resource_id)
    if resource is None:
        raise not_found(rules.not_found_detail(resource_id))
    refs = _global_refs(resource)
    doc = _in_notation(resource.render(), accept)
    if accept.resolved and not refs:
        accept = dataclasses.replace(accept, format=acc.Format.RAW)
    return json_response(views.view(call, doc, refs, accept))


def _schema_document(
    call: Call, body: Mapping[str, Any], class_id: str, groups: list[str], tags: list[str]
) -> dict[str, Any]:
    doc = {k: v for k, v in body.items() if k not in rules.READ_ONLY}
    doc.update(
        {
            "meta:resourceType": "schemas",
            "type": "object",
            "meta:class": class_id,
            "meta:abstract": False,
            "meta:extensible": False,
            "meta:extends": rules.schema_extends(class_id, groups),
            "meta:containerId": "tenant",
            "imsOrg": call.org_id,
            "meta:xdmType": "object",
        }
    )
    if tags:
        doc["meta:immutableTags"] = tags
    return doc


def _find_schema(call: Call) -> Schema:
    resource_id = str(call.request.path_params["rid"])
    schema = call.resources.schemas.find(resource_id, call.sandbox)
    if schema is None:
        raise not_found(rules.not_found_detail(resource_id))
    return schema


async def list_schemas(call: Call) -> Response:
    accept = acc.for_list(call.request.headers.get("accept"))
    docs = [views.raw_document(call, s) for s in call.resources.schemas.list(call.sandbox)]
    return views.page(call, docs, accept, "schemas")


async def create_schema(call: Call) -> Response:
    body = views.body_object(await call.json())
    resources = call.resources
    with resources.lock:
        class_id, groups = rules.split_schema_refs(resources, call.sandbox, body)
        tags = rules.immutable_tags(body)
        doc = _schema_document(call, body, class_id, groups, tags)
        try:
            schema = resources.schemas.add(
                Schema(
                    title=str(body["title"]),
                    class_id=class_id,
                    field_group_ids=groups,
                    body=doc,
                    sandbox=call.sandbox,
                )
            )
        except DuplicateResource as taken:
            raise views.duplicate_title(str(taken.args[0])) from None
        doc["meta:registryMetadata"] = {"xdm:createdClientId": call.client_id}
        return json_response(views.raw_document(call, schema), status=201)


async def get_schema(call: Call) -> Response:
    accept = acc.for_lookup(call.request.headers.get("accept"))
    schema = _find_schema(call)
    return json_response(
        views.view(
            call, views.raw_document(call, schema, lookup=True), rules.schema_refs(schema), accept
        )
    )


def _replace_schema(
    call: Call, schema: Schema, new_body: dict[str, Any], ingested: Ingested
) -> Response:
    resources = call.resources
    class_id, groups = rules.split_schema_refs(resources, call.sandbox, new_body)
    tags = rules.immutable_tags(new_body)
    in_use = rules.schema_in_use(resources, schema.id, ingested)
    rules.check_schema_change(schema, class_id, groups, tags, in_use)
    doc = _schema_document(call, new_body, class_id, groups, tags)
    doc["meta:registryMetadata"] = schema.body.get("meta:registryMetadata", {})
    changed = dataclasses.replace(
        schema, title=str(new_body["title"]), class_id=class_id, field_group_ids=groups, body=doc
    )
    try:
        stored = resources.schemas.update(changed)
    except DuplicateResource as taken:
        raise views.duplicate_title(str(taken.args[0])) from None
    return json_response(views.raw_document(call, stored))


def patch_schema(ingested: Ingested) -> Callable[[Call], Any]:
    async def run(call: Call) -> Response:
        operations = await call.json()
        with call.resources.lock:
            schema = _find_schema(call)
            patched = views.apply_patch(views.raw_document(call, schema), operations)
            return _replace_schema(call, schema, patched, ingested)

    return run


def put_schema(ingested: Ingested) -> Callable[[Call], Any]:
    async def run(call: Call) -> Response:
        body = views.body_object(await call.json())
        with call.resources.lock:
            return _replace_schema(call, _find_schema(call), body, ingested)

    return run


def delete_schema(ingested: Ingested) -> Callable[[Call], Any]:
    async def run(call: Call) -> Response:
        with call.resources.lock:
            schema = _find_schema(call)
            if rules.schema_in_use(call.resources, schema.id, ingested):
                raise bad_request("A schema in use by a dataset cannot be deleted")
            call.resources.schemas.remove(schema.id)
        return Response(status_code=204)

    return run


def routes(state: PlatformState, orgs: OrgBindings, ingested: Ingested) -> list[Route]:
    r = route_maker(BASE, state, orgs)

    out = [
        r("/stats", summary.stats, ["GET"]),
        r("/global/{kind}", list_global, ["GET"]),
        r("/global/{kind}/{rid:path}", get_global, ["GET"]),
        r("/tenant/schemas", list_schemas, ["GET"]),
        r("/tenant/schemas", create_schema, ["POST"]),
        r("/tenant/schemas/{rid:path}", get_schema, ["GET"]),
        r("/tenant/schemas/{rid:path}", patch_schema(ingested), ["PATCH"]),
        r("/tenant/schemas/{rid:path}", put_schema(ingested), ["PUT"]),
        r("/tenant/schemas/{rid:path}", delete_schema(ingested), ["DELETE"]),
        r("/tenant/unions", summary.list_unions, ["GET"]),
        r("/tenant/unions/{rid:path}", summary.get_union, ["GET"]),
    ]
    # `mixins` is the registry's legacy name for field groups; both paths work.
    for kind in ("fieldgroups", "mixins"):
        out += [
            r(f"/tenant/{kind}", field_groups.list_groups, ["GET"]),
            r(f"/tenant/{kind}", field_groups.create_group, ["POST"]),
            r(f"/tenant/{kind}/{{rid:path}}", field_groups.get_group, ["GET"]),
            r(f"/tenant/{kind}/{{rid:path}}", field_groups.patch_group(ingested), ["PATCH"]),
            r(f"/tenant/{kind}/{{rid:path}}", field_groups.put_group(ingested), ["PUT"]),
            r(f"/tenant/{kind}/{{rid:path}}", field_groups.delete_group, ["DELETE"]),
        ]
    for kind in ("classes", "datatypes"):
        out.append(r(f"/tenant/{kind}", summary.empty_list(kind), ["GET"]))
    return out
