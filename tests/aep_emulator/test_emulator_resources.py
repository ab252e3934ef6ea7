"""The control-plane state's rules that both planes rely on."""

from __future__ import annotations

import re

import pytest

from aep_emulator.resources import (
    DATA_LAKE_TARGET_SPEC,
    DATA_PREP_FLOW_SPEC,
    HTTP_API_CONNECTION_SPEC,
    PASSTHROUGH_FLOW_SPEC,
    DuplicateResource,
    Resources,
)


def test_schema_ids_and_unique_titles() -> None:
    resources = Resources(tenant_id="acme")
    schema = resources.create_schema(
        title="T", class_id="https://ns.adobe.com/xdm/context/profile", field_group_ids=[], body={}
    )
    assert re.fullmatch(r"https://ns\.adobe\.com/acme/schemas/[0-9a-f]{32}", schema.id)
    assert schema.alt_id == "_acme.schemas." + schema.id.rsplit("/", 1)[1]
    assert resources.schema(schema.alt_id) is schema
    with pytest.raises(DuplicateResource):
        resources.create_field_group(title="T", body={})
    # Titles are unique per sandbox.
    resources.create_field_group(title="T", body={}, sandbox="dev")
    schema.title = "U"
    assert resources.update_schema(schema).version == "1.1"


def test_http_api_connection_gets_an_inlet() -> None:
    resources = Resources(public_url="http://emu:1/")
    connection = resources.create_connection(
        name="c",
        connection_spec_id=HTTP_API_CONNECTION_SPEC,
        auth_params={"authenticationRequired": True},
    )
    assert connection.inlet_id is not None
    assert re.fullmatch(r"[0-9a-f]{64}", connection.inlet_id)
    assert connection.inlet_url == f"http://emu:1/collection/{connection.inlet_id}"
    assert connection.authentication_required
    assert connection.auth_params["inletUrl"] == connection.inlet_url
    assert resources.connection_by_inlet(connection.inlet_id) is connection
    resources.delete_connection(connection.id)
    assert resources.connection_by_inlet(connection.inlet_id) is None


def test_flow_lookups() -> None:
    resources = Resources()
    dataset = resources.create_dataset(
        name="d", schema_id="s", tags={"unifiedProfile": ["enabled: true"]}
    )
    assert dataset.profile_enabled
    assert not dataset.identity_enabled
    connection = resources.create_connection(
        name="c", connection_spec_id=HTTP_API_CONNECTION_SPEC, auth_params={}
    )
    source = resources.create_source_connection(
        name="s", base_connection_id=connection.id, connection_spec_id=HTTP_API_CONNECTION_SPEC
    )
    target = resources.create_target_connection(
        name="t", connection_spec_id=DATA_LAKE_TARGET_SPEC, dataset_id=dataset.id, schema_id="s"
    )
    prep = resources.create_flow(
        name="f",
        flow_spec_id=DATA_PREP_FLOW_SPEC,
        source_connection_ids=[source.id],
        target_connection_ids=[target.id],
    )
    plain = resources.create_flow(
        name="g",
        flow_spec_id=PASSTHROUGH_FLOW_SPEC,
        source_connection_ids=[source.id],
        target_connection_ids=[target.id],
    )
    assert prep.supports_operations
    assert not plain.supports_operations
    assert resources.flows_for_connection(connection.id) == [prep, plain]
    assert resources.dataset_for_flow(prep) is dataset
    etag, warm_from = prep.etag, prep.updated_ms
    resources.update_flow(prep)
    assert prep.etag != etag
    assert prep.updated_ms >= warm_from
    resources.clear()
    assert resources.flow(prep.id) is None
    assert resources.dataset(dataset.id) is None


def test_namespaces() -> None:
    resources = Resources()
    assert resources.namespace("Email") is not None
    custom = resources.create_namespace(
        code="CustomerId", name="Commerce Customer ID", id_type="Cross_device"
    )
    assert custom.custom
    assert custom.id >= 10_000_000
    with pytest.raises(DuplicateResource):
        resources.create_namespace(code="CustomerId", name="again", id_type="Cross_device")
    assert resources.namespace_by_id(custom.id) is custom
