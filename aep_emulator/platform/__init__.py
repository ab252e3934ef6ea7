"""The Platform APIs of the emulator (`/data/...`): gateway checks, Schema Registry,
Identity Service, Catalog, Flow Service and Profile merge policies, answering as docs/AEP.md
documents."""

from __future__ import annotations

from starlette.routing import Route

from aep_emulator.platform import (
    catalog,
    descriptors,
    flow_service,
    identity,
    merge_policies,
    schema_registry,
)
from aep_emulator.platform.gateway import PlatformState, org_bindings


def platform_routes(state: PlatformState) -> list[Route]:
    """Every Platform route, sharing one org binding and the data store's "has data" view."""
    orgs = org_bindings(state)

    return [
        *schema_registry.routes(state, orgs, state.store.has_records),
        *descriptors.routes(state, orgs),
        *identity.routes(state, orgs),
        *catalog.routes(state, orgs),
        *flow_service.routes(state, orgs),
        *merge_policies.routes(state, orgs),
    ]
