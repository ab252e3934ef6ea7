"""Real-Time Customer Profile merge policies (`/data/core/ups/config/mergePolicies`,
docs/AEP.md §5.1): the one default policy for `_xdm.context.profile` that the emulator's profile
store applies. Read-only: policies cannot be created, changed or deleted here.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.platform.errors import bad_request, not_found
from aep_emulator.platform.gateway import (
    Call,
    OrgBindings,
    PlatformState,
    json_response,
    route_maker,
)

BASE: Final = "/data/core/ups/config/mergePolicies"
PROFILE_SCHEMA_NAME: Final = "_xdm.context.profile"
# Fixed, so a client can keep it between emulator runs.
DEFAULT_MERGE_POLICY_ID: Final = str(uuid.uuid5(uuid.NAMESPACE_URL, "aep-emulator/merge-policy"))
# The policy's version never moves: the epoch of its (fictional) last update.
_UPDATE_EPOCH: Final = 1_700_000_000


def default_policy(call: Call) -> dict[str, Any]:
    """Later fragments win attribute by attribute (`timestampOrdered`: by ingestion time, or by
    the record's own timestamp in the emulator's timestamp mode); fragments of every identity
    of the profile are merged (the private identity graph)."""
    return {
        "id": DEFAULT_MERGE_POLICY_ID,
        "name": "Default Timebased",
        "imsOrgId": call.org_id,
        "sandbox": {
            "sandboxName": call.sandbox,
            "type": "production" if call.sandbox == "prod" else "development",
            "default": call.sandbox == "prod",
        },
        "schema": {"name": PROFILE_SCHEMA_NAME},
        "version": 1,
        "identityGraph": {"type": "pdg"},
        "attributeMerge": {"type": "timestampOrdered"},
        "default": True,
        "isActiveOnEdge": False,
        "updateEpoch": _UPDATE_EPOCH,
    }


def _wanted(call: Call, policy: dict[str, Any]) -> bool:
    query = call.request.query_params
    schema_name = query.get("schema.name")
    if schema_name is not None and schema_name != policy["schema"]["name"]:
        return False
    default = query.get("default")
    return default is None or default.lower() == str(policy["default"]).lower()


async def list_policies(call: Call) -> Response:
    limit = call.request.query_params.get("limit", "20")
    if not limit.isdigit() or int(limit) < 1:
        raise bad_request("limit must be a positive integer")
    children = [p for p in (default_policy(call),) if _wanted(call, p)][: int(limit)]
    return json_response(
        {
            "_page": {"totalCount": len(children), "pageSize": len(children)},
            "children": children,
            "_links": {"next": {"href": ""}},
        }
    )


async def get_policy(call: Call) -> Response:
    policy_id = str(call.request.path_params["policy_id"])
    if policy_id != DEFAULT_MERGE_POLICY_ID:
        raise not_found(f"Merge policy {policy_id} not found")
    return json_response(default_policy(call))


def routes(state: PlatformState, orgs: OrgBindings) -> list[Route]:
    r = route_maker(BASE, state, orgs)
    return [r("", list_policies, ["GET"]), r("/{policy_id}", get_policy, ["GET"])]
