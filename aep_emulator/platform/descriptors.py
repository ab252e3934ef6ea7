"""Schema Registry descriptors (`/tenant/descriptors`, docs/AEP.md §3.7)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.platform import accept as acc
from aep_emulator.platform.errors import bad_request, not_found
from aep_emulator.platform.filters import matches_all, parse_all
from aep_emulator.platform.gateway import (
    Call,
    OrgBindings,
    PlatformState,
    json_response,
    route_maker,
)
from aep_emulator.platform.registry_rules import not_found_detail, schema_has_field
from aep_emulator.resources import Descriptor

BASE: Final = "/data/foundation/schemaregistry/tenant/descriptors"
IDENTITY: Final = "xdm:descriptorIdentity"


def _document(call: Call, descriptor: Descriptor, *, full: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        **descriptor.body,
        "@id": descriptor.id,
        "meta:containerId": "tenant",
        "version": descriptor.version,
        "imsOrg": call.org_id,
    }
    if full:
        doc.update(
            {
                "created": descriptor.created_ms,
                "updated": descriptor.updated_ms,
                "createdUser": call.client_id,
                "updatedUser": call.client_id,
            }
        )
    return doc


def _check(call: Call, body: Any, except_id: str | None) -> dict[str, Any]:
    """A valid descriptor body, or 400 (404 wording for a missing schema)."""
    if not isinstance(body, dict) or not isinstance(body.get("@type"), str):
        raise bad_request("@type is required")
    schema_id = body.get("xdm:sourceSchema")
    schemas = call.resources.schemas
    schema = schemas.find(schema_id, call.sandbox) if isinstance(schema_id, str) else None
    if schema is None:
        raise bad_request(not_found_detail(str(schema_id)))
    prop = body.get("xdm:sourceProperty")
    if prop is not None and (
        not isinstance(prop, str)
        or not prop.startswith("/")
        or prop.endswith("/")
        or "/properties/" in f"{prop}/"
    ):
        raise bad_request(
            "xdm:sourceProperty must start with '/', must not end with '/' and must not "
            "contain 'properties' segments"
        )
    if isinstance(prop, str) and not schema_has_field(call.resources, schema, prop):
        raise bad_request(f"xdm:sourceProperty {prop} is not a field of {schema.id}")
    if body["@type"] == IDENTITY:
        _check_identity(call, body, schema.id, except_id)
    return {k: v for k, v in body.items() if k not in ("@id", "meta:containerId", "imsOrg")}


def _check_identity(
    call: Call, body: Mapping[str, Any], schema_id: str, except_id: str | None
) -> None:
    if not isinstance(body.get("xdm:sourceProperty"), str):
        raise bad_request("xdm:sourceProperty is required for an identity descriptor")
    by = body.get("xdm:property", "xdm:code")
    namespace = body.get("xdm:namespace")
    if by == "xdm:code":
        found = call.resources.namespaces.by_alias(str(namespace)) is not None
    elif by == "xdm:id":
        try:
            found = call.resources.namespaces.get(str(int(str(namespace)))) is not None
        except ValueError:
            found = False
    else:
        raise bad_request("xdm:property must be xdm:code or xdm:id")
    if not found:
        raise bad_request(f"Identity namespace {namespace} does not exist")
    if body.get("xdm:isPrimary") is True:
        for other in call.resources.descriptors.list(
            call.sandbox, where=lambda d: d.source_schema == schema_id
        ):
            if other.id != except_id and other.type == IDENTITY and other.body.get("xdm:isPrimary"):
                raise bad_request("Schemas may contain only one primary identity")


async def create(call: Call) -> Response:
    body = await call.json()
    with call.resources.lock:
        clean = _check(call, body, None)
        descriptor = call.resources.descriptors.add(Descriptor(body=clean, sandbox=call.sandbox))
    return json_response(_document(call, descriptor, full=False), status=201)


def _find(call: Call) -> Descriptor:
    descriptor_id = str(call.request.path_params["did"])
    descriptor = call.resources.descriptors.get(descriptor_id, call.sandbox)
    if descriptor is None:
        raise not_found(not_found_detail(descriptor_id))
    return descriptor


async def get(call: Call) -> Response:
    # A lookup by @id needs no Accept header (docs/AEP.md §3.2).
    return json_response(_document(call, _find(call), full=True))


async def put(call: Call) -> Response:
    body = await call.json()
    with call.resources.lock:
        descriptor = _find(call)
        descriptor.body = _check(call, body, descriptor.id)
        call.resources.descriptors.update(descriptor)
    return json_response({"@id": descriptor.id}, status=201)


async def delete(call: Call) -> Response:
    with call.resources.lock:
        call.resources.descriptors.remove(_find(call).id)
    return Response(status_code=204)


async def list_all(call: Call) -> Response:
    accept = acc.for_descriptor_list(call.request.headers.get("accept"))
    try:
        filters = parse_all(call.request.query_params.getlist("property"))
    except ValueError:
        raise bad_request("Invalid property filter") from None
    docs = [_document(call, d, full=True) for d in call.resources.descriptors.list(call.sandbox)]
    docs = [d for d in docs if matches_all(d, filters)]
    if accept is acc.DescriptorFormat.V2:
        return json_response(
            {"results": docs, "_page": {"count": len(docs), "next": None}, "_links": {}}
        )
    grouped: dict[str, list[Any]] = {}
    for doc in docs:
        if accept is acc.DescriptorFormat.LINK:
            item: Any = f"/tenant/descriptors/{doc['@id']}"
        elif accept is acc.DescriptorFormat.ID:
            item = doc["@id"]
        else:
            item = doc
        grouped.setdefault(str(doc["@type"]), []).append(item)
    return json_response(grouped)


def routes(state: PlatformState, orgs: OrgBindings) -> list[Route]:
    r = route_maker(BASE, state, orgs)

    return [
        r("", list_all, ["GET"]),
        r("", create, ["POST"]),
        r("/{did}", get, ["GET"]),
        r("/{did}", put, ["PUT"]),
        r("/{did}", delete, ["DELETE"]),
    ]
