"""The control-plane store's rules that both planes rely on."""

from __future__ import annotations

import re

import pytest

from aep_emulator.resources import (
    Connection,
    Dataset,
    DuplicateResource,
    FieldGroup,
    Flow,
    IdentityNamespace,
    ResourceNotFound,
    Resources,
    Schema,
    SourceConnection,
    TargetConnection,
)
from schemas.flow_specs import (
    DATA_LAKE_TARGET_SPEC,
    DATA_PREP_FLOW_SPEC,
    HTTP_API_CONNECTION_SPEC,
    PASSTHROUGH_FLOW_SPEC,
)

PROFILE = "https://ns.adobe.com/xdm/context/profile"


def test_schema_ids_and_unique_titles() -> None:
    resources = Resources(tenant_id="acme")
    schema = resources.schemas.add(Schema(title="T", class_id=PROFILE, field_group_ids=[], body={}))
    assert re.fullmatch(r"https://ns\.adobe\.com/acme/schemas/[0-9a-f]{32}", schema.id)
    assert schema.alt_id == "_acme.schemas." + schema.id.rsplit("/", 1)[1]
    assert resources.schemas.find(schema.alt_id) is schema
    with pytest.raises(DuplicateResource):
        resources.field_groups.add(FieldGroup(title="T", body={}))
    # Titles are unique per sandbox.
    resources.field_groups.add(FieldGroup(title="T", body={}, sandbox="dev"))
    schema.title = "U"
    assert resources.schemas.update(schema).version == "1.1"


def test_lookups_respect_the_sandbox() -> None:
    resources = Resources()
    dataset = resources.datasets.add(Dataset(name="d", schema_id="s", sandbox="dev"))
    assert re.fullmatch(r"[0-9a-f]{24}", dataset.id)
    assert resources.datasets.get(dataset.id, "dev") is dataset
    assert resources.datasets.get(dataset.id, "prod") is None
    assert resources.datasets.list("prod") == []
    resources.datasets.remove(dataset.id)
    with pytest.raises(ResourceNotFound):
        resources.datasets.update(dataset)
    with pytest.raises(ResourceNotFound):
        resources.datasets.remove(dataset.id)


def test_http_api_connection_gets_an_inlet() -> None:
    resources = Resources(public_url="http://emu:1/")
    connection = resources.connections.add(
        Connection(
            name="c",
            connection_spec_id=HTTP_API_CONNECTION_SPEC,
            auth_params={"authenticationRequired": True},
        )
    )
    assert connection.inlet_id is not None
    assert re.fullmatch(r"[0-9a-f]{64}", connection.inlet_id)
    assert connection.inlet_url == f"http://emu:1/collection/{connection.inlet_id}"
    assert connection.authentication_required
    assert connection.auth_params["inletUrl"] == connection.inlet_url
    assert resources.connection_by_inlet(connection.inlet_id) is connection
    # The inlet id is not a connection id.
    assert resources.connections.get(connection.inlet_id) is None
    resources.connections.remove(connection.id)
    assert resources.connection_by_inlet(connection.inlet_id) is None


def test_flow_lookups() -> None:
    resources = Resources()
    dataset = resources.datasets.add(
        Dataset(name="d", schema_id="s", tags={"unifiedProfile": ["enabled: true"]})
    )
    assert dataset.profile_enabled
    assert not dataset.tag_enabled("unifiedIdentity")
    connection = resources.connections.add(
        Connection(name="c", connection_spec_id=HTTP_API_CONNECTION_SPEC, auth_params={})
    )
    source = resources.source_connections.add(
        SourceConnection(
            name="s", base_connection_id=connection.id, connection_spec_id=HTTP_API_CONNECTION_SPEC
        )
    )
    target = resources.target_connections.add(
        TargetConnection(
            name="t", connection_spec_id=DATA_LAKE_TARGET_SPEC, dataset_id=dataset.id, schema_id="s"
        )
    )
    prep = resources.flows.add(
        Flow(
            name="f",
            flow_spec_id=DATA_PREP_FLOW_SPEC,
            source_connection_ids=[source.id],
            target_connection_ids=[target.id],
        )
    )
    plain = resources.flows.add(
        Flow(
            name="g",
            flow_spec_id=PASSTHROUGH_FLOW_SPEC,
            source_connection_ids=[source.id],
            target_connection_ids=[target.id],
        )
    )
    assert prep.supports_operations
    assert not plain.supports_operations
    assert resources.flows_for_connection(connection.id) == [prep, plain]
    assert resources.dataset_for_flow(prep) is dataset
    etag, warm_from = prep.etag, prep.updated_ms
    resources.flows.update(prep)
    assert prep.etag != etag
    assert prep.updated_ms >= warm_from
    resources.clear()
    assert resources.flows.get(prep.id) is None
    assert resources.datasets.get(dataset.id) is None


def test_namespaces() -> None:
    resources = Resources()
    assert resources.namespaces.by_alias("Email") is not None
    custom = resources.namespaces.add(
        IdentityNamespace(code="CustomerId", name="Commerce Customer ID", id_type="Cross_device")
    )
    assert custom.custom
    assert custom.number >= 10_000_000
    with pytest.raises(DuplicateResource):
        resources.namespaces.add(
            IdentityNamespace(code="CustomerId", name="again", id_type="Cross_device")
        )
    assert resources.namespaces.get(str(custom.number)) is custom
    # Standard namespaces are visible in every sandbox, custom ones in their own.
    assert resources.namespaces.by_alias("Email", "dev") is not None
    assert resources.namespaces.by_alias("CustomerId", "dev") is None
