"""Init against the emulator: an empty sandbox, a second run, and partial states completed,
each first as a plan (nothing written, exit 2) and then applied (exit 0)."""

from __future__ import annotations

from consumer.config import exit_codes
from consumer.config.settings import XdmSettings
from consumer.provisioning.desired import PROFILE_TAGS
from schemas.xdm import (
    EXTERNAL_SOURCE_AUDIT_ID,
    PERSONAL_CONTACT_DETAILS_ID,
    TENANT_FIELD_GROUP_TITLE,
)
from tests.consumer.provisioning.init_helpers import Aep, changes, cli_init, wanted_ids

SCHEMA = "Commerce Customer Profile"
DATASET = "Commerce Customer Profiles"
NAME = "commerce-profile-sync"
EVERYTHING = [
    ("create", "schema", SCHEMA),
    ("create", "identity_namespace", "CustomerId"),
    ("create", "dataset", DATASET),
    ("create", "connection", NAME),
    ("create", "source_connection", f"{NAME}-source"),
    ("create", "target_connection", f"{NAME}-target"),
    ("create", "dataflow", NAME),
]
FLOW_CHAIN = EVERYTHING[4:]


def plan_then_apply(aep: Aep, expected: list[tuple[str, str, str]], **env: str) -> None:
    """Through the command: the printed plan lists `expected` and nothing is written (exit 2);
    applying makes exactly those changes (exit 0); then nothing is pending (exit 0) and a
    further run writes nothing."""
    before = aep.writes()
    code, line, err = cli_init(aep, plan=True, **env)
    assert line is not None
    assert [(c["action"], c["kind"], c["key"]) for c in line["changes"]] == expected
    assert code == exit_codes.PLAN_HAS_CHANGES
    for action, kind, key in expected:
        assert f"would {action} {kind} {key!r}" in err
    assert aep.writes() == before

    code, line, _ = cli_init(aep, plan=False, **env)
    assert code == exit_codes.OK
    assert line is not None
    assert [(c["action"], c["kind"], c["key"]) for c in line["changes"]] == expected
    assert aep.writes() > before

    settled = aep.writes()
    code, again, err = cli_init(aep, plan=True, **env)
    assert code == exit_codes.OK
    assert again is not None
    assert again["changes"] == []
    assert "nothing to do" in err
    assert {k: v for k, v in again.items() if k != "changes"} == {
        k: v for k, v in line.items() if k != "changes"
    }
    assert cli_init(aep, plan=False, **env)[1] == again
    assert aep.writes() == settled


def test_empty_sandbox_gets_everything_in_one_run(aep: Aep) -> None:
    outcome = aep.reconcile(plan_only=False)
    assert changes(outcome) == EVERYTHING
    assert outcome.exit_code == exit_codes.OK
    known = outcome.known
    assert known.schema_id is not None
    assert known.dataset_id is not None
    assert known.flow_id is not None
    assert known.inlet_url is not None
    assert known.inlet_url.startswith(f"{aep.url}/collection/")
    with aep.client() as client:
        schema = client.get_schema(known.schema_id)
        assert schema is not None
        assert schema.union
        assert [schema.class_id, *schema.field_group_ids] == wanted_ids()
        dataset = client.get_dataset(known.dataset_id)
        assert dataset is not None
        assert dataset.schema_id == known.schema_id
        assert all(dataset.tag_enabled(tag) for tag in PROFILE_TAGS)
        namespace = next(n for n in client.list_namespaces() if n.code == "CustomerId")
        assert namespace.custom
        connection = client.find_connections(NAME)[0]
        assert connection.authentication_required
        flow = client.get_flow(known.flow_id)
        assert flow is not None
        assert flow.spec_id == "c1a19761-d2c7-4702-b9fa-fe91f0613e81"


def test_second_run_reports_no_change_and_writes_nothing(aep: Aep) -> None:
    first = aep.reconcile(plan_only=False)
    writes = aep.writes()
    second = aep.reconcile(plan_only=False)
    assert second.changes == []
    assert second.exit_code == exit_codes.OK
    assert aep.writes() == writes
    assert second.known == first.known  # same ids, same creation time, so same ready_at


def test_empty_sandbox_plan_lists_everything(aep: Aep) -> None:
    plan_then_apply(aep, EVERYTHING)


def test_schema_without_a_field_group_gets_it(aep: Aep) -> None:
    with aep.client() as client:
        refs = [r for r in wanted_ids() if r != PERSONAL_CONTACT_DETAILS_ID]
        client.create_schema(SCHEMA, "partial", refs, union=True)
    plan_then_apply(
        aep,
        [("add", "schema_field_group", f"{SCHEMA}: Personal Contact Details"), *EVERYTHING[1:]],
    )
    with aep.client() as client:
        schema = client.get_schema(client.find_schemas(SCHEMA)[0][0])
        assert schema is not None
        assert PERSONAL_CONTACT_DETAILS_ID in schema.field_group_ids


def test_schema_not_yet_profile_enabled_is_enabled(aep: Aep) -> None:
    with aep.client() as client:
        client.create_schema(SCHEMA, "not in union", wanted_ids(), union=False)
    plan_then_apply(aep, [("enable", "schema_profile", SCHEMA), *EVERYTHING[1:]])
    with aep.client() as client:
        schema = client.get_schema(client.find_schemas(SCHEMA)[0][0])
        assert schema is not None
        assert schema.union


def test_dataset_without_the_profile_tag_is_tagged(aep: Aep) -> None:
    with aep.client() as client:
        schema = client.create_schema(SCHEMA, "", wanted_ids(), union=True)
        dataset_id = client.create_dataset(
            DATASET, "", schema.id, {"unifiedIdentity": ["enabled:true"], "other": ["kept"]}
        )
        client.create_namespace("CustomerId", "Commerce Customer ID", "CROSS_DEVICE", "")
    plan_then_apply(aep, [("enable", "dataset_tag", f"{DATASET}: unifiedProfile"), *EVERYTHING[3:]])
    with aep.client() as client:
        dataset = client.get_dataset(dataset_id)
        assert dataset is not None
        assert dataset.tag_enabled("unifiedProfile")
        assert dataset.tags["other"] == ("kept",)  # never removes


def test_connection_without_a_dataflow_gets_one(aep: Aep) -> None:
    with aep.client() as client:
        connection_id = client.create_connection(NAME, "made by hand")
    plan_then_apply(aep, [*EVERYTHING[:3], *FLOW_CHAIN])
    outcome = aep.reconcile(plan_only=True)
    assert outcome.known.connection_id == connection_id


def test_tenant_field_group_is_created_and_used(aep: Aep) -> None:
    xdm = XdmSettings(xdm_tenant_fields=True)
    plan_then_apply(
        aep,
        [("create", "field_group", TENANT_FIELD_GROUP_TITLE), *EVERYTHING],
        PROFILE_SYNC_XDM_TENANT_FIELDS="true",
    )
    outcome = aep.reconcile(plan_only=True, xdm=xdm)
    group_id = outcome.known.tenant_group_id
    assert group_id is not None
    assert group_id.startswith(f"https://ns.adobe.com/{outcome.known.tenant_id}/")
    with aep.client() as client:
        assert outcome.known.schema_id is not None
        schema = client.get_schema(outcome.known.schema_id)
        assert schema is not None
        assert group_id in schema.field_group_ids


def test_audit_group_added_when_the_setting_is_turned_on(aep: Aep) -> None:
    aep.reconcile(plan_only=False, xdm=XdmSettings(xdm_audit_field_group=False))
    plan_then_apply(
        aep,
        [("add", "schema_field_group", f"{SCHEMA}: External Source System Audit Details")],
    )
    with aep.client() as client:
        schema = client.get_schema(client.find_schemas(SCHEMA)[0][0])
        assert schema is not None
        assert EXTERNAL_SOURCE_AUDIT_ID in schema.field_group_ids


def test_tenant_fields_turned_on_later_add_the_group_to_the_schema(aep: Aep) -> None:
    aep.reconcile(plan_only=False)
    plan_then_apply(
        aep,
        [
            ("create", "field_group", TENANT_FIELD_GROUP_TITLE),
            ("add", "schema_field_group", f"{SCHEMA}: {TENANT_FIELD_GROUP_TITLE}"),
        ],
        PROFILE_SYNC_XDM_TENANT_FIELDS="true",
    )
