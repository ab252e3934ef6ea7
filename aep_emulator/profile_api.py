"""Profile Access: `GET /data/core/ups/access/entities` (docs/AEP.md §6.1), read back merged.

Behind the same gateway checks as the other Platform routes. Lookup is by identity value and
namespace (`entityId` + `entityIdNS`); XIDs are not supported. The answer for an unknown
identity is not documented; the emulator answers 404 with a problem body.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.platform.errors import bad_request, not_found
from aep_emulator.platform.gateway import Call, OrgBindings, endpoint, json_response
from aep_emulator.state import EmulatorState
from aep_emulator.store import primary_identity

PROFILE_SCHEMA_NAME: Final = "_xdm.context.profile"
DEFAULT_MERGE_POLICY_ID: Final = "0b2d4f1c-emul-4a7e-9c3b-timestampord"


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


def profile_routes(state: EmulatorState) -> list[Route]:
    orgs = OrgBindings()

    async def entities(call: Call) -> Response:
        params = call.request.query_params
        schema_name = params.get("schema.name")
        if not schema_name:
            raise bad_request("schema.name is required")
        if schema_name != PROFILE_SCHEMA_NAME:
            raise bad_request(f"schema.name [{schema_name}] is not supported by the emulator")
        entity_id = params.get("entityId")
        namespace = params.get("entityIdNS")
        if not entity_id:
            raise bad_request("entityId is required")
        if not namespace:
            raise bad_request("entityIdNS is required (the emulator does not resolve XIDs)")
        if params.get("wait", "true").lower() != "false":
            # Reads right after a write see it, although ingestion is asynchronous.
            await run_in_threadpool(state.worker.wait_idle, 5.0)
        profile = state.store.profile(namespace, entity_id)
        if profile is None:
            raise not_found("No profile found for the given identity")
        fields = [f for f in (params.get("fields") or "").split(",") if f]
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
        return json_response(
            {
                _xid(namespace, entity_id): {
                    "entityId": _xid(namespace, entity_id),
                    "mergePolicy": {"id": params.get("mergePolicyId") or DEFAULT_MERGE_POLICY_ID},
                    "sources": profile.sources,
                    "tags": profile.tags,
                    "identityGraph": [_xid(ns, i) for ns, i in profile.identities],
                    "entity": entity,
                    "lastModifiedAt": modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            }
        )

    return [
        Route("/data/core/ups/access/entities", endpoint(state, orgs, entities), methods=["GET"])
    ]
