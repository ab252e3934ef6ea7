"""Drift init must not touch: refused before any write, exit 1, with an explanation."""

from __future__ import annotations

from typing import Any

import pytest

from consumer.aep.platform_client import HTTP_API_CONNECTION_SPEC, SchemaInfo
from consumer.commands.init import InitOutcome
from consumer.config import exit_codes
from consumer.config.settings import AepResourceSettings, XdmSettings
from consumer.provisioning.desired import desired
from consumer.provisioning.observe import Observed
from consumer.provisioning.plan import make_plan
from schemas.xdm import EXTERNAL_SOURCE_AUDIT_ID, tenant_field_group
from tests.consumer.provisioning.init_helpers import Aep, wanted_ids

SCHEMA = "Commerce Customer Profile"
DATASET = "Commerce Customer Profiles"


def refused(aep: Aep, **kwargs: Any) -> InitOutcome:
    """Both the plan and the real run refuse, and neither writes anything."""
    before = aep.writes()
    for plan_only in (True, False):
        outcome = aep.reconcile(plan_only=plan_only, **kwargs)
        assert outcome.refusals, outcome.changes
        assert outcome.exit_code == exit_codes.ERROR
    assert aep.writes() == before
    return outcome


def test_schema_title_taken_by_a_field_group(aep: Aep) -> None:
    with aep.client() as client:
        body = tenant_field_group(client.tenant_id())
        client.create_field_group({**body, "title": SCHEMA})
    outcome = refused(aep)
    assert any("taken by the field group" in r for r in outcome.refusals)
    assert any("PROFILE_SYNC_AEP_SCHEMA_TITLE" in r for r in outcome.refusals)


def test_dataset_bound_to_another_schema(aep: Aep) -> None:
    with aep.client() as client:
        other = client.create_schema("Someone else's", "", wanted_ids(), union=True)
        client.create_dataset(DATASET, "", other.id, {})
    outcome = refused(aep)
    assert any("a dataset's schema cannot be changed" in r for r in outcome.refusals)


def test_field_of_another_type_in_the_tenant(aep: Aep) -> None:
    with aep.client() as client:
        tenant = client.tenant_id()
        clash = {
            "title": "Legacy Commerce Fields",
            "type": "object",
            "meta:intendedToExtend": ["https://ns.adobe.com/xdm/context/profile"],
            "definitions": {
                "legacy": {
                    "properties": {
                        f"_{tenant}": {
                            "type": "object",
                            "properties": {
                                "commerce": {
                                    "type": "object",
                                    "properties": {"websiteId": {"type": "string"}},
                                }
                            },
                        }
                    }
                }
            },
            "allOf": [{"$ref": "#/definitions/legacy"}],
        }
        client.create_field_group(clash)
    outcome = refused(aep, xdm=XdmSettings(xdm_tenant_fields=True))
    assert any(
        f"/_{tenant}/commerce/websiteId is already defined as string" in r for r in outcome.refusals
    )


def test_schema_with_a_group_the_mapper_does_not_emit(aep: Aep) -> None:
    aep.reconcile(plan_only=False)  # with the audit group
    outcome = refused(aep, xdm=XdmSettings(xdm_audit_field_group=False))
    assert any("External Source System Audit Details" in r for r in outcome.refusals)
    assert any("never removes" in r for r in outcome.refusals)


def test_unauthenticated_connection_with_our_name(aep: Aep) -> None:
    with aep.client() as client:
        http = client._http  # the raw layer, to make what init itself never makes
        http.request(
            "POST",
            "/data/foundation/flowservice/connections",
            json_body={
                "name": "commerce-profile-sync",
                "connectionSpec": {"id": HTTP_API_CONNECTION_SPEC, "version": "1.0"},
                "auth": {
                    "specName": "Streaming Connection",
                    "params": {"dataType": "xdm", "authenticationRequired": False},
                },
            },
        )
    outcome = refused(aep)
    assert any("does not require authentication" in r for r in outcome.refusals)


def test_refusals_are_all_reported_at_once(aep: Aep) -> None:
    with aep.client() as client:
        other = client.create_schema("Other", "", wanted_ids(), union=True)
        client.create_dataset(DATASET, "", other.id, {})
        body = tenant_field_group(client.tenant_id())
        client.create_field_group({**body, "title": SCHEMA})
    assert len(refused(aep).refusals) == 2


@pytest.mark.parametrize(
    ("class_id", "groups", "expected"),
    [
        ("https://ns.adobe.com/xdm/context/experienceevent", (), "class"),
        (None, (EXTERNAL_SOURCE_AUDIT_ID, "https://ns.adobe.com/x/mixins/1"), "does not emit"),
    ],
)
def test_schema_drift_that_the_emulator_cannot_hold(
    class_id: str | None, groups: tuple[str, ...], expected: str
) -> None:
    """Pure planning: another class (the emulator ships only the profile class)."""
    want = desired("acme", AepResourceSettings(), XdmSettings())
    ids = wanted_ids()
    schema = SchemaInfo(
        id="https://ns.adobe.com/acme/schemas/1",
        title=SCHEMA,
        class_id=class_id or ids[0],
        field_group_ids=tuple(ids[1:]) + groups,
        union=True,
        version="1.0",
    )
    observed = Observed(
        schema=schema,
        schema_title_groups=(),
        tenant_group=None,
        tenant_title_schemas=(),
        other_groups=(),
        namespace=None,
        datasets=(),
        connections=(),
        flows=(),
    )
    plan = make_plan(observed, want, None)
    assert any(expected in r for r in plan.refusals)


def test_dataflow_without_the_operations_header(aep: Aep) -> None:
    """A pass-through dataflow with our name would silently drop deletes (design 6)."""
    made = aep.reconcile(plan_only=False, aep_flow_name="other")
    with aep.client() as client:
        client._http.request(
            "POST",
            "/data/foundation/flowservice/flows",
            json_body={
                "name": "commerce-profile-sync",
                "flowSpec": {"id": "d8a6f005-7eaf-4153-983e-e8574508b877", "version": "1.0"},
                "sourceConnectionIds": [made.known.source_id],
                "targetConnectionIds": [made.known.target_id],
            },
        )
    outcome = refused(aep)
    assert any("`operations` header" in r for r in outcome.refusals)


def test_tenant_group_title_taken_by_a_schema(aep: Aep) -> None:
    with aep.client() as client:
        client.create_schema("Commerce Customer Fields", "", wanted_ids(), union=False)
    outcome = refused(aep, xdm=XdmSettings(xdm_tenant_fields=True))
    assert any("is taken by the schema" in r for r in outcome.refusals)


def test_namespace_that_is_not_a_person_identifier(aep: Aep) -> None:
    with aep.client() as client:
        client.create_namespace("CustomerId", "Cookie ids", "COOKIE", "")
    outcome = refused(aep)
    assert any("not a person (cross-device) identifier" in r for r in outcome.refusals)
