"""`run`'s AEP start-up side (`consumer.provisioning.startup.resolve_aep_target`) against the
emulator: lookups by name, ids from `init --json`, and the schema check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from consumer.aep.platform_client import PlatformClient
from consumer.aep.platform_session import platform_session
from consumer.config import exit_codes
from consumer.config.settings import AepAuthSettings, AepResourceSettings, XdmSettings
from consumer.provisioning.report import ready_at
from consumer.provisioning.startup import StartupError, resolve_aep_target
from schemas.xdm import PERSONAL_CONTACT_DETAILS_ID
from tests.consumer.provisioning.init_helpers import Aep, no_sleep, wanted_ids


def session(auth: AepAuthSettings) -> AbstractContextManager[PlatformClient]:
    return platform_session(auth, sleep=no_sleep)


def test_lookup_by_name_matches_what_init_made(aep: Aep) -> None:
    made = aep.reconcile(plan_only=False).known
    target = resolve_aep_target(
        aep.auth(),
        AepResourceSettings(aep_dataflow_warmup_s=60),
        XdmSettings(),
        session=session,
    )
    assert (target.schema_id, target.dataset_id, target.flow_id, target.inlet_url) == (
        made.schema_id,
        made.dataset_id,
        made.flow_id,
        made.inlet_url,
    )
    assert target.ready_at == ready_at(made, 60)
    assert target.ready_at is not None
    assert target.ready_at > datetime.now(UTC) + timedelta(seconds=50)


def test_ids_from_init_need_one_read_of_the_schema(aep: Aep) -> None:
    made = aep.reconcile(plan_only=False).known
    resources = AepResourceSettings(
        aep_tenant_id=made.tenant_id,
        aep_schema_id=made.schema_id,
        aep_dataset_id=made.dataset_id,
        aep_flow_id=made.flow_id,
        aep_inlet_url=made.inlet_url,
    )
    before = aep.requests()
    target = resolve_aep_target(aep.auth(), resources, XdmSettings(), session=session)
    assert target.schema_id == made.schema_id
    assert aep.requests() - before == 2  # the IMS token and one schema read


def test_schema_missing_a_field_group_refuses_to_start(aep: Aep) -> None:
    made = aep.reconcile(plan_only=False, xdm=XdmSettings(xdm_audit_field_group=False)).known
    with pytest.raises(StartupError) as caught:
        resolve_aep_target(aep.auth(), AepResourceSettings(), XdmSettings(), session=session)
    assert caught.value.exit_code == exit_codes.AEP_CONFIG_FAULT
    assert "lacks the field group(s) 'External Source System Audit Details'" in str(caught.value)
    assert made.schema_id is not None


def test_schema_with_an_extra_group_refuses_to_start(aep: Aep) -> None:
    aep.reconcile(plan_only=False)
    with pytest.raises(StartupError, match="does not emit") as caught:
        resolve_aep_target(
            aep.auth(),
            AepResourceSettings(),
            XdmSettings(xdm_audit_field_group=False),
            session=session,
        )
    assert caught.value.exit_code == exit_codes.AEP_CONFIG_FAULT


def test_tenant_group_found_with_one_read(aep: Aep) -> None:
    xdm = XdmSettings(xdm_tenant_fields=True)
    aep.reconcile(plan_only=False, xdm=xdm)
    target = resolve_aep_target(aep.auth(), AepResourceSettings(), xdm, session=session)
    assert target.tenant_id is not None


def test_missing_resources_name_the_setting(aep: Aep) -> None:
    with pytest.raises(StartupError, match="PROFILE_SYNC_AEP_SCHEMA_TITLE") as caught:
        resolve_aep_target(aep.auth(), AepResourceSettings(), XdmSettings(), session=session)
    assert caught.value.exit_code == exit_codes.AEP_CONFIG_FAULT
    assert "profile-sync init" in str(caught.value)


def test_partial_schema_made_by_hand(aep: Aep) -> None:
    aep.reconcile(plan_only=False)
    with aep.client() as client:
        refs = [r for r in wanted_ids() if r != PERSONAL_CONTACT_DETAILS_ID]
        partial = client.create_schema("Partial", "", refs, union=True)
    with pytest.raises(StartupError, match="'Personal Contact Details'"):
        resolve_aep_target(
            aep.auth(),
            AepResourceSettings(aep_schema_id=partial.id),
            XdmSettings(),
            session=session,
        )


def test_refused_credentials_are_exit_3(aep: Aep) -> None:
    @contextmanager
    def bad_sandbox(auth: AepAuthSettings) -> Iterator[PlatformClient]:
        with platform_session(auth.model_copy(update={"aep_sandbox": "nosuch"})) as client:
            yield client

    with pytest.raises(StartupError, match="PROFILE_SYNC_AEP_SANDBOX") as caught:
        resolve_aep_target(aep.auth(), AepResourceSettings(), XdmSettings(), session=bad_sandbox)
    assert caught.value.exit_code == exit_codes.AEP_CONFIG_FAULT
