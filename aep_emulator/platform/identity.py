"""Identity Service namespaces (`/data/core/idnamespace/identities`, docs/AEP.md §5.4).

Standard namespaces always exist; custom ones are created once and can never be deleted.
The error bodies for a taken code and for a delete are not documented; they use the
registry's problem shape.
"""

from __future__ import annotations

import re
from typing import Any, Final

from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.platform.errors import bad_request, not_found, problem
from aep_emulator.platform.gateway import (
    Call,
    OrgBindings,
    PlatformState,
    json_response,
    route_maker,
)
from aep_emulator.resources import DuplicateResource, IdentityNamespace

BASE: Final = "/data/core/idnamespace/identities"
# Observed in the docs (COOKIE, Cross_device) plus a third-party OpenAPI's list.
ID_TYPES: Final = frozenset({"COOKIE", "DEVICE", "CROSS_DEVICE", "EMAIL", "PHONE", "NON_PEOPLE"})
_CODE = re.compile(r"[A-Za-z0-9_.-]+\Z")


def document(namespace: IdentityNamespace) -> dict[str, Any]:
    return {
        "updateTime": namespace.updated_ms,
        "code": namespace.code,
        "status": namespace.status,
        "description": namespace.description,
        "id": namespace.number,
        "createTime": namespace.created_ms,
        "idType": namespace.id_type,
        "name": namespace.name,
        "custom": namespace.custom,
    }


async def list_all(call: Call) -> Response:
    namespaces = call.resources.namespaces.list(call.sandbox)
    return json_response([document(n) for n in sorted(namespaces, key=lambda n: n.number)])


def _find(call: Call) -> IdentityNamespace:
    key = str(call.request.path_params["key"])
    namespaces = call.resources.namespaces
    # Digits name the numeric id, anything else the code.
    namespace = (
        namespaces.get(str(int(key)), call.sandbox)
        if key.isdigit()
        else namespaces.by_alias(key, call.sandbox)
    )
    if namespace is None:
        raise not_found(f"Namespace {key} not found")
    return namespace


async def get(call: Call) -> Response:
    return json_response(document(_find(call)))


async def create(call: Call) -> Response:
    body = await call.json()
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    name, code, id_type = body.get("name"), body.get("code"), body.get("idType")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("name is required")
    if not isinstance(code, str) or not _CODE.match(code):
        raise bad_request("code is required and may only contain letters, digits, '_', '-', '.'")
    if not isinstance(id_type, str) or id_type.upper() not in ID_TYPES:
        raise bad_request(f"idType must be one of {', '.join(sorted(ID_TYPES))}")
    resources = call.resources
    with resources.lock:
        # Codes are unique regardless of case (email vs Email would be one identity graph key).
        taken = [n.code for n in resources.namespaces.list() if n.code.lower() == code.lower()]
        if taken:
            raise bad_request(f"Namespace code {taken[0]} already exists")
        try:
            namespace = resources.namespaces.add(
                IdentityNamespace(
                    code=code,
                    name=name,
                    id_type=id_type,
                    description=str(body.get("description", "")),
                    sandbox=call.sandbox,
                )
            )
        except DuplicateResource:
            raise bad_request(f"Namespace code {code} already exists") from None
    return json_response(document(namespace))


async def delete(call: Call) -> Response:
    _find(call)
    raise problem(405, "MethodNotAllowedError", "Identity namespaces cannot be deleted")


def routes(state: PlatformState, orgs: OrgBindings) -> list[Route]:
    r = route_maker(BASE, state, orgs)

    return [
        r("", list_all, ["GET"]),
        r("", create, ["POST"]),
        r("/{key}", get, ["GET"]),
        r("/{key}", delete, ["DELETE"]),
    ]
