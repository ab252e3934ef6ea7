"""Profile Access: `GET` and bulk `POST /data/core/ups/access/entities` (docs/AEP.md §6.1),
read back merged.

Behind the same gateway checks as the other Platform routes. Lookup is by identity value and
namespace (`entityId` + `entityIdNS`); XIDs are not supported. The answer of a single GET for
an unknown identity is not documented; the emulator answers 404 with a problem body. The bulk
POST answers every requested identity, unknown ones with an empty entity, as documented.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.platform.errors import bad_request, not_found
from aep_emulator.platform.gateway import Call, endpoint, json_response, org_bindings
from aep_emulator.platform.merge_policies import DEFAULT_MERGE_POLICY_ID, PROFILE_SCHEMA_NAME
from aep_emulator.state import EmulatorState
from aep_emulator.store import MergedProfile, primary_identity

PATH: Final = "/data/core/ups/access/entities"
# What the bulk read answers for an identity without a profile.
_UNKNOWN: Final = {"entity": {}, "lastModifiedAt": "1970-01-01T00:00:00Z", "sources": [""]}


def _xid(namespace: str, identity_id: str) -> str:
    digest = hashlib.sha256(f"{namespace.lower()}:{identity_id}".encode()).digest()[:21]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _select(entity: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """Keep only the dotted paths named in `fields`."""
    out: dict[str, Any] = {}
    for path in fields:
        parts = path.split(".")
        source: Any = entity
        for part in parts:
            source = source.get(part) if isinstance(source, dict) else None
        if source is None:
            continue
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = source
    return out


def _check_schema(schema_name: object) -> None:
    if not schema_name:
        raise bad_request("schema.name is required")
    if schema_name != PROFILE_SCHEMA_NAME:
        raise bad_request(f"schema.name [{schema_name}] is not supported by the emulator")


def _entry(
    profile: MergedProfile, xid: str, fields: list[str], merge_policy_id: str | None
) -> dict[str, Any]:
    entity = profile.entity
    primary = primary_identity(profile.entity)
    if fields == ["identities"]:
        entity = {
            "identities": [
                {"id": i, "namespace": {"code": ns.lower()}, "primary": (ns, i) == primary}
                for ns, i in profile.identities
            ]
        }
    elif fields:
        entity = _select(entity, fields)
    modified = datetime.fromtimestamp(profile.last_modified_ms / 1000, tz=UTC)
    return {
        "entityId": xid,
        "mergePolicy": {"id": merge_policy_id or DEFAULT_MERGE_POLICY_ID},
        "sources": profile.sources,
        "tags": profile.tags,
        "identityGraph": [_xid(ns, i) for ns, i in profile.identities],
        "entity": entity,
        "lastModifiedAt": modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _identities(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(namespace code, id) of each requested identity; 400 for a malformed list."""
    requested = body.get("identities")
    if not isinstance(requested, list) or not requested:
        raise bad_request("identities must be a non-empty array")
    out: list[tuple[str, str]] = []
    for item in requested:
        namespace = item.get("entityIdNS") if isinstance(item, Mapping) else None
        code = namespace.get("code") if isinstance(namespace, Mapping) else None
        entity_id = item.get("entityId") if isinstance(item, Mapping) else None
        if not isinstance(entity_id, str) or not entity_id:
            raise bad_request("every identity needs an entityId")
        if not isinstance(code, str) or not code:
            raise bad_request("every identity needs entityIdNS.code (XIDs are not resolved)")
        out.append((code, entity_id))
    return out


def profile_routes(state: EmulatorState) -> list[Route]:
    orgs = org_bindings(state)

    async def settle(wait: bool) -> None:
        if wait:
            # Reads right after a write see it, although ingestion is asynchronous.
            await run_in_threadpool(state.worker.wait_idle, 5.0)

    async def entities(call: Call) -> Response:
        params = call.request.query_params
        _check_schema(params.get("schema.name"))
        entity_id = params.get("entityId")
        namespace = params.get("entityIdNS")
        if not entity_id:
            raise bad_request("entityId is required")
        if not namespace:
            raise bad_request("entityIdNS is required (the emulator does not resolve XIDs)")
        await settle(params.get("wait", "true").lower() != "false")
        profile = state.store.profile(namespace, entity_id)
        if profile is None:
            raise not_found("No profile found for the given identity")
        fields = [f for f in (params.get("fields") or "").split(",") if f]
        xid = _xid(namespace, entity_id)
        return json_response({xid: _entry(profile, xid, fields, params.get("mergePolicyId"))})

    async def bulk_entities(call: Call) -> Response:
        body = await call.json()
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object")
        schema = body.get("schema")
        _check_schema(schema.get("name") if isinstance(schema, Mapping) else None)
        requested = _identities(body)
        fields = body.get("fields") or []
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise bad_request("fields must be an array of strings")
        policy = body.get("mergePolicyId")
        await settle(True)
        answer: dict[str, Any] = {}
        for namespace, entity_id in requested:
            xid = _xid(namespace, entity_id)
            profile = state.store.profile(namespace, entity_id)
            answer[xid] = (
                dict(_UNKNOWN)
                if profile is None
                else _entry(profile, xid, fields, policy if isinstance(policy, str) else None)
            )
        return json_response(answer)

    return [
        Route(PATH, endpoint(state, orgs, entities), methods=["GET"]),
        Route(PATH, endpoint(state, orgs, bulk_entities), methods=["POST"]),
    ]
