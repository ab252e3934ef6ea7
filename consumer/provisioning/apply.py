"""Carry out a plan's changes, in the plan's (dependency) order.

A failure half-way leaves what was already made in place; the next run finds it by its
natural key and goes on from there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog

from consumer.aep.platform_client import PlatformClient
from consumer.provisioning.desired import (
    DESCRIPTION,
    NAMESPACE_CODE,
    NAMESPACE_ID_TYPE,
    NAMESPACE_NAME,
    PROFILE_TAGS,
    Desired,
)
from consumer.provisioning.plan import Change, Known, Plan
from schemas.xdm import is_tenant_field_group_id

_log = structlog.get_logger(__name__)

ENABLED: list[str] = ["enabled:true"]


class _Applier:
    def __init__(
        self,
        client: PlatformClient,
        want: Desired,
        known: Known,
        tenant_body: Mapping[str, Any] | None,
        now_ms: Callable[[], int],
    ) -> None:
        self.client = client
        self.want = want
        self.known = known
        self.tenant_body = tenant_body
        self.now_ms = now_ms

    def real_id(self, group_id: str) -> str:
        if is_tenant_field_group_id(group_id):
            assert self.known.tenant_group_id is not None
            return self.known.tenant_group_id
        return group_id

    def apply(self, change: Change) -> None:
        handler = getattr(self, f"_{change.action}_{change.kind}")
        handler(change)
        _log.info("init_change_applied", action=change.action, kind=change.kind, key=change.key)

    def _create_field_group(self, change: Change) -> None:
        assert self.tenant_body is not None
        self.known.tenant_group_id = self.client.create_field_group(self.tenant_body).id

    def _create_schema(self, change: Change) -> None:
        refs = [self.real_id(g) for g in self.want.wanted]
        # Created Profile-enabled at once (docs/AEP.md §3.4): the tag is wanted anyway.
        schema = self.client.create_schema(change.key, DESCRIPTION, refs, union=True)
        self.known.schema_id = schema.id

    def _add_schema_field_group(self, change: Change) -> None:
        assert self.known.schema_id is not None
        assert change.group_id is not None
        self.client.add_schema_field_groups(self.known.schema_id, [self.real_id(change.group_id)])

    def _enable_schema_profile(self, change: Change) -> None:
        assert self.known.schema_id is not None
        self.client.enable_schema_for_profile(self.known.schema_id)

    def _create_identity_namespace(self, change: Change) -> None:
        self.client.create_namespace(NAMESPACE_CODE, NAMESPACE_NAME, NAMESPACE_ID_TYPE, DESCRIPTION)

    def _create_dataset(self, change: Change) -> None:
        assert self.known.schema_id is not None
        self.known.dataset_id = self.client.create_dataset(
            change.key, DESCRIPTION, self.known.schema_id, {tag: ENABLED for tag in PROFILE_TAGS}
        )

    def _enable_dataset_tag(self, change: Change) -> None:
        assert self.known.dataset_id is not None
        tag = change.key.rsplit(": ", 1)[-1]
        self.client.add_dataset_tags(self.known.dataset_id, {tag: ENABLED})

    def _create_connection(self, change: Change) -> None:
        self.known.connection_id = self.client.create_connection(change.key, DESCRIPTION)
        # The inlet URL is assigned by AEP; read it back (docs/AEP.md §2.10 step 2).
        connection = self.client.get_connection(self.known.connection_id)
        self.known.inlet_url = connection.inlet_url if connection else None

    def _create_source_connection(self, change: Change) -> None:
        assert self.known.connection_id is not None
        self.known.source_id = self.client.create_source_connection(
            change.key, DESCRIPTION, self.known.connection_id
        )

    def _create_target_connection(self, change: Change) -> None:
        assert self.known.schema_id is not None
        assert self.known.dataset_id is not None
        self.known.target_id = self.client.create_target_connection(
            change.key, DESCRIPTION, self.known.schema_id, self.known.dataset_id
        )

    def _create_dataflow(self, change: Change) -> None:
        assert self.known.source_id is not None
        assert self.known.target_id is not None
        started_ms = self.now_ms()
        self.known.flow_id = self.client.create_flow(
            change.key, DESCRIPTION, self.known.source_id, self.known.target_id
        )
        # AEP's own creation time, so that every later run prints the same `ready_at`.
        flow = self.client.get_flow(self.known.flow_id)
        created = flow.created_ms if flow is not None else None
        self.known.flow_created_ms = created if created is not None else started_ms


def apply_plan(
    client: PlatformClient,
    want: Desired,
    plan: Plan,
    tenant_body: Mapping[str, Any] | None,
    now_ms: Callable[[], int],
) -> Known:
    """Apply every change of a plan without refusals; returns the ids of everything."""
    assert not plan.refusals, "a refused plan is never applied"
    applier = _Applier(client, want, plan.known, tenant_body, now_ms)
    for change in plan.changes:
        applier.apply(change)
    return applier.known
