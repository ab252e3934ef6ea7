"""What the Platform APIs create is exactly what the inlet routes by: a schema, dataset,
namespace, connection and dataflows made through the APIs carry records into the store."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from starlette.testclient import TestClient

from tests.aep_emulator.platform.platform_api import ORG, create_dataset, create_schema
from tests.aep_emulator.platform.test_flow_service_api import (
    DATA_LAKE,
    DATA_PREP,
    FS,
    HTTP_API,
    PASSTHROUGH,
    base_body,
    post,
)

NAMESPACES = "/data/core/idnamespace/identities"


@pytest.fixture
def setup(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    namespace = client.post(
        NAMESPACES,
        json={"name": "Commerce Customer ID", "code": "CustomerId", "idType": "CROSS_DEVICE"},
        headers=headers,
    )
    assert namespace.status_code == 200
    schema = create_schema(client, headers)
    dataset_id = create_dataset(client, headers, schema["$id"])
    base = post(client, headers, "/connections", base_body())
    (connection,) = client.get(f"{FS}/connections/{base['id']}", headers=headers).json()["items"]
    target = post(
        client,
        headers,
        "/targetConnections",
        {
            "name": "tgt",
            "connectionSpec": {"id": DATA_LAKE, "version": "1.0"},
            "data": {"format": "parquet_xdm", "schema": {"id": schema["$id"]}},
            "params": {"dataSetId": dataset_id},
        },
    )
    flows = {}
    for spec in (PASSTHROUGH, DATA_PREP):
        source = post(
            client,
            headers,
            "/sourceConnections",
            {
                "name": f"src-{spec}",
                "baseConnectionId": base["id"],
                "connectionSpec": {"id": HTTP_API, "version": "1.0"},
            },
        )
        flows[spec] = post(
            client,
            headers,
            "/flows",
            {
                "name": f"flow-{spec}",
                "flowSpec": {"id": spec, "version": "1.0"},
                "sourceConnectionIds": [source["id"]],
                "targetConnectionIds": [target["id"]],
            },
        )["id"]
    return {
        "schema_id": schema["$id"],
        "dataset_id": dataset_id,
        "inlet_url": connection["auth"]["params"]["inletUrl"],
        "flows": flows,
    }


def envelope(setup: dict[str, Any], flow_id: str, customer: str, **header: Any) -> dict[str, Any]:
    schema_ref = {
        "id": setup["schema_id"],
        "contentType": "application/vnd.adobe.xed-full+json;version=1",
    }
    return {
        "header": {
            "schemaRef": schema_ref,
            "imsOrgId": ORG,
            "datasetId": setup["dataset_id"],
            "flowId": flow_id,
            "source": {"name": "commerce-profile-sync"},
            **header,
        },
        "body": {
            "xdmMeta": {"schemaRef": schema_ref},
            "xdmEntity": {
                "identityMap": {"CustomerId": [{"id": customer, "primary": True}]},
                "person": {"name": {"firstName": "Test"}},
            },
        },
    }


def send(
    client: TestClient,
    headers: dict[str, str],
    setup: dict[str, Any],
    flow_id: str,
    messages: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    batch_path = urlsplit(setup["inlet_url"]).path.replace("/collection/", "/collection/batch/")
    answer = client.post(
        batch_path,
        json={"messages": messages},
        headers={"Authorization": headers["Authorization"], "x-adobe-flow-id": flow_id},
    )
    assert answer.status_code == 207, answer.text
    return list(answer.json()["responses"])


def records(client: TestClient, dataset_id: str) -> list[dict[str, Any]]:
    answer = client.get("/_emulator/records", params={"datasetId": dataset_id})
    return [orjson.loads(line) for line in answer.content.splitlines() if line.strip()]


def test_inlet_uses_what_the_apis_created(
    client: TestClient, headers: dict[str, str], setup: dict[str, Any]
) -> None:
    assert urlsplit(setup["inlet_url"]).netloc == "aep.test"
    flow_id = setup["flows"][PASSTHROUGH]
    responses = send(client, headers, setup, flow_id, [envelope(setup, flow_id, "42")])
    assert "status" not in responses[0]
    assert "statusCode" not in responses[0]
    (stored,) = records(client, setup["dataset_id"])
    assert stored["flowId"] == flow_id
    assert stored["datasetId"] == setup["dataset_id"]
    assert stored["operation"] == "create"
    assert stored["entity"]["identityMap"]["CustomerId"][0]["id"] == "42"


def test_operations_only_through_a_data_prep_flow(
    client: TestClient, headers: dict[str, str], setup: dict[str, Any]
) -> None:
    delete = {"operations": {"data": "delete"}}
    plain = setup["flows"][PASSTHROUGH]
    (refused,) = send(client, headers, setup, plain, [envelope(setup, plain, "7", **delete)])
    assert refused.get("status", refused.get("statusCode")) == 400
    prep = setup["flows"][DATA_PREP]
    (accepted,) = send(client, headers, setup, prep, [envelope(setup, prep, "7", **delete)])
    assert "status" not in accepted
    assert "statusCode" not in accepted
    (stored,) = records(client, setup["dataset_id"])
    assert (stored["flowId"], stored["operation"]) == (prep, "delete")


def test_ingested_data_makes_a_schema_used(client: TestClient, headers: dict[str, str]) -> None:
    """A dataset that is not Profile-enabled still freezes its schema once data arrived."""
    schema = create_schema(client, headers)
    dataset_id = create_dataset(client, headers, schema["$id"], profile=False)
    base = post(client, headers, "/connections", base_body(auth=False))
    (connection,) = client.get(f"{FS}/connections/{base['id']}", headers=headers).json()["items"]
    url = f"/data/foundation/schemaregistry/tenant/schemas/{schema['meta:altId']}"
    drop_last = [{"op": "remove", "path": "/allOf/4"}]
    setup = {
        "schema_id": schema["$id"],
        "dataset_id": dataset_id,
        "inlet_url": connection["auth"]["params"]["inletUrl"],
    }
    # Legacy routing: a connection without a dataflow routes by header.datasetId.
    message = envelope(setup, "", "5")
    del message["header"]["flowId"]
    batch_path = urlsplit(setup["inlet_url"]).path.replace("/collection/", "/collection/batch/")
    answer = client.post(batch_path, json={"messages": [message]})
    assert answer.status_code == 207
    assert len(records(client, dataset_id)) == 1
    refused = client.patch(url, json=drop_last, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["title"] == "BadRequestError"
