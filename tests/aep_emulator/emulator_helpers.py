"""Helpers for the emulator's contract tests: resources provisioned directly in the emulator's
`Resources` store (the Platform routes are tested apart), envelopes and valid records."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

from aep_emulator.resources import (
    Connection,
    Dataset,
    Flow,
    Schema,
    SourceConnection,
    TargetConnection,
)
from aep_emulator.state import EmulatorState
from schemas.flow_specs import DATA_LAKE_TARGET_SPEC, DATA_PREP_FLOW_SPEC, HTTP_API_CONNECTION_SPEC
from schemas.xdm.ids import (
    BASE_FIELD_GROUP_IDS,
    EXTERNAL_SOURCE_AUDIT_ID,
    PROFILE_CLASS_ID,
)

ORG = "0DD379AC5B117F6E0A494106@AdobeOrg"
CONTENT_TYPE = "application/vnd.adobe.xed-full+json;version=1"


@dataclass
class Provisioned:
    schema: Schema
    dataset: Dataset
    connection: Connection
    flow: Flow | None

    @property
    def inlet_id(self) -> str:
        assert self.connection.inlet_id is not None
        return self.connection.inlet_id

    @property
    def batch_path(self) -> str:
        return f"/collection/batch/{self.inlet_id}"

    @property
    def single_path(self) -> str:
        return f"/collection/{self.inlet_id}"

    @property
    def flow_headers(self) -> dict[str, str]:
        return {"x-adobe-flow-id": self.flow.id} if self.flow else {}


def provision(
    state: EmulatorState,
    *,
    flow_spec: str | None = DATA_PREP_FLOW_SPEC,
    authenticated: bool = False,
    name: str = "commerce",
) -> Provisioned:
    """Schema, Profile-enabled dataset, HTTP API connection and (unless flow_spec is None) a
    dataflow, as init creates them."""
    resources = state.resources
    field_groups = [*BASE_FIELD_GROUP_IDS, EXTERNAL_SOURCE_AUDIT_ID]
    schema = resources.schemas.add(
        Schema(
            title=f"Schema {name}",
            class_id=PROFILE_CLASS_ID,
            field_group_ids=field_groups,
            # The raw registry document, as the Platform routes store it (Schema.body's contract).
            body={
                "title": f"Schema {name}",
                "meta:class": PROFILE_CLASS_ID,
                "allOf": [{"$ref": ref} for ref in (PROFILE_CLASS_ID, *field_groups)],
                "meta:immutableTags": ["union"],
            },
        )
    )
    dataset = resources.datasets.add(
        Dataset(
            name=f"Dataset {name}",
            schema_id=schema.id,
            tags={"unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]},
        )
    )
    connection = resources.connections.add(
        Connection(
            name=f"Connection {name}",
            connection_spec_id=HTTP_API_CONNECTION_SPEC,
            auth_params={"dataType": "xdm", "authenticationRequired": authenticated},
            ims_org=ORG,
        )
    )
    flow = None
    if flow_spec is not None:
        source = resources.source_connections.add(
            SourceConnection(
                name="source",
                base_connection_id=connection.id,
                connection_spec_id=HTTP_API_CONNECTION_SPEC,
            )
        )
        target = resources.target_connections.add(
            TargetConnection(
                name="target",
                connection_spec_id=DATA_LAKE_TARGET_SPEC,
                dataset_id=dataset.id,
                schema_id=schema.id,
            )
        )
        flow = resources.flows.add(
            Flow(
                name=f"Flow {name}",
                flow_spec_id=flow_spec,
                source_connection_ids=[source.id],
                target_connection_ids=[target.id],
            )
        )
    return Provisioned(schema=schema, dataset=dataset, connection=connection, flow=flow)


def profile_record(customer_id: str = "1001", **overrides: Any) -> dict[str, Any]:
    """A record that passes the default validator (fictional person)."""
    record: dict[str, Any] = {
        "_id": f"commerce-{customer_id}",
        "identityMap": {
            "CustomerId": [
                {"id": customer_id, "primary": True, "authenticatedState": "authenticated"}
            ]
        },
        "person": {"name": {"firstName": "Ada", "lastName": "Example"}},
        "personalEmail": {"address": f"ada{customer_id}@example.com", "primary": True},
        "extSourceSystemAudit": {"lastUpdatedDate": "2024-05-01T10:00:00.000Z"},
    }
    record.update(overrides)
    return record


def envelope(
    p: Provisioned,
    entity: Any,
    *,
    operation: str | None = None,
    dataset: bool = True,
    header_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    header: dict[str, Any] = {
        "schemaRef": {"id": p.schema.id, "contentType": CONTENT_TYPE},
        "imsOrgId": ORG,
        "source": {"name": "commerce-profile-sync"},
    }
    if dataset:
        header["datasetId"] = p.dataset.id
    if p.flow is not None:
        header["flowId"] = p.flow.id
    if operation is not None:
        header["operations"] = {"data": operation}
    header.update(header_extra or {})
    return {
        "header": header,
        "body": {
            "xdmMeta": {"schemaRef": {"id": p.schema.id, "contentType": CONTENT_TYPE}},
            "xdmEntity": copy.deepcopy(entity),
        },
    }


@dataclass
class Emulator:
    client: TestClient
    state: EmulatorState

    def token(self) -> str:
        answer = self.client.post(
            "/ims/token/v3",
            data={
                "grant_type": "client_credentials",
                "client_id": "test-client",
                "client_secret": "test-secret",
                "scope": "openid,AdobeID",
            },
        )
        assert answer.status_code == 200
        return str(answer.json()["access_token"])

    def platform_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token()}",
            "x-api-key": "test-client",
            "x-gw-ims-org-id": ORG,
            "x-sandbox-name": "prod",
        }


# The `make_emulator` fixture: builds an in-process emulator with the given options.
EmulatorFactory = Callable[..., Emulator]
