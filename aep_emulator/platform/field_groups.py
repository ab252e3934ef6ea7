"""Schema Registry tenant field groups (`/tenant/fieldgroups`, legacy `/tenant/mixins`;
docs/AEP.md §3.8): custom fields under `_{tenant}`, no removed or retyped field once a schema
using the group is in use, one type per field path in the tenant."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import Response

from aep_emulator.platform import accept as acc
from aep_emulator.platform import registry_rules as rules
from aep_emulator.platform import registry_views as views
from aep_emulator.platform.errors import bad_request, not_found
from aep_emulator.platform.gateway import Call, json_response
from aep_emulator.platform.registry_rules import Ingested
from aep_emulator.resources import DuplicateResource, FieldGroup


def _find_group(call: Call) -> FieldGroup:
    resource_id = str(call.request.path_params["rid"])
    group = call.resources.field_groups.find(resource_id, call.sandbox)
    if group is None:
        raise not_found(rules.not_found_detail(resource_id))
    return group


def _group_document(call: Call, body: Mapping[str, Any]) -> dict[str, Any]:
    rules.check_tenant_fields(body, call.tenant_id)
    doc = {k: v for k, v in body.items() if k not in rules.READ_ONLY}
    doc.update(
        {
            "type": "object",
            "meta:resourceType": "mixins",
            "meta:containerId": "tenant",
            "meta:abstract": True,
            "meta:extensible": True,
            "meta:xdmType": "object",
            "imsOrg": call.org_id,
        }
    )
    return doc


async def list_groups(call: Call) -> Response:
    accept = acc.for_list(call.request.headers.get("accept"))
    docs = [views.raw_document(call, g) for g in call.resources.field_groups.list(call.sandbox)]
    return views.page(call, docs, accept, "fieldgroups")


async def create_group(call: Call) -> Response:
    body = views.body_object(await call.json())
    resources = call.resources
    with resources.lock:
        doc = _group_document(call, body)
        conflict = rules.tenant_type_conflict(
            resources, call.sandbox, rules.group_fields(doc), None
        )
        if conflict:
            raise bad_request(conflict)
        try:
            group = resources.field_groups.add(
                FieldGroup(title=str(body["title"]), body=doc, sandbox=call.sandbox)
            )
        except DuplicateResource as taken:
            raise views.duplicate_title(str(taken.args[0])) from None
        doc["meta:registryMetadata"] = {"xdm:createdClientId": call.client_id}
        return json_response(views.raw_document(call, group), status=201)


async def get_group(call: Call) -> Response:
    accept = acc.for_lookup(call.request.headers.get("accept"))
    group = _find_group(call)
    doc = views.raw_document(call, group, lookup=True)
    if accept.resolved:
        # A field group resolves on its own: its properties, without a class.
        accept = dataclasses.replace(accept, format=acc.Format.RAW)
    return json_response(views.view(call, doc, [group.id], accept))


def _replace_group(
    call: Call, group: FieldGroup, new_body: dict[str, Any], ingested: Ingested
) -> Response:
    resources = call.resources
    doc = _group_document(call, new_body)
    new_fields = rules.group_fields(doc)
    users = resources.schemas.list(call.sandbox, where=lambda s: group.id in s.field_group_ids)
    if any(rules.schema_in_use(resources, s.id, ingested) for s in users):
        reason = rules.breaking_field_change(rules.group_fields(group.body), new_fields)
        if reason:
            raise bad_request(reason)
    conflict = rules.tenant_type_conflict(resources, call.sandbox, new_fields, group.id)
    if conflict:
        raise bad_request(conflict)
    doc["meta:registryMetadata"] = group.body.get("meta:registryMetadata", {})
    changed = dataclasses.replace(group, title=str(new_body["title"]), body=doc)
    try:
        stored = resources.field_groups.update(changed)
    except DuplicateResource as taken:
        raise views.duplicate_title(str(taken.args[0])) from None
    return json_response(views.raw_document(call, stored))


def patch_group(ingested: Ingested) -> Callable[[Call], Any]:
    async def run(call: Call) -> Response:
        operations = await call.json()
        with call.resources.lock:
            group = _find_group(call)
            patched = views.apply_patch(views.raw_document(call, group), operations)
            return _replace_group(call, group, patched, ingested)

    return run


def put_group(ingested: Ingested) -> Callable[[Call], Any]:
    async def run(call: Call) -> Response:
        body = views.body_object(await call.json())
        with call.resources.lock:
            return _replace_group(call, _find_group(call), body, ingested)

    return run


async def delete_group(call: Call) -> Response:
    with call.resources.lock:
        group = _find_group(call)
        if call.resources.schemas.list(where=lambda s: group.id in s.field_group_ids):
            raise bad_request("A field group used by a schema cannot be deleted")
        call.resources.field_groups.remove(group.id)
    return Response(status_code=204)
