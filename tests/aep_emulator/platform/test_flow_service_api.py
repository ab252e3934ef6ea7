"""Flow Service (docs/AEP.md §2.10, etag body §1.4)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.aep_emulator.platform.platform_api import create_dataset, create_schema

FS = "/data/foundation/flowservice"
HTTP_API = "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb"
DATA_LAKE = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
PASSTHROUGH = "d8a6f005-7eaf-4153-983e-e8574508b877"
DATA_PREP = "c1a19761-d2c7-4702-b9fa-fe91f0613e81"


def base_body(name: str = "commerce-profile-sync", auth: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Commerce profiles",
        "connectionSpec": {"id": HTTP_API, "version": "1.0"},
        "auth": {
            "specName": "Streaming Connection",
            "params": {"dataType": "xdm", "name": name, "authenticationRequired": auth},
        },
    }


def post(client: TestClient, headers: dict[str, str], path: str, body: Any) -> dict[str, Any]:
    answer = client.post(f"{FS}{path}", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    assert set(answer.json()) == {"id", "etag"}
    return dict(answer.json())


def chain(client: TestClient, headers: dict[str, str], spec: str = PASSTHROUGH) -> dict[str, Any]:
    """Schema, dataset, base/source/target connections and a flow, as init creates them."""
    schema = create_schema(client, headers)
    dataset_id = create_dataset(client, headers, schema["$id"])
    base = post(client, headers, "/connections", base_body())
    source = post(
        client,
        headers,
        "/sourceConnections",
        {
            "name": "src",
            "baseConnectionId": base["id"],
            "connectionSpec": {"id": HTTP_API, "version": "1.0"},
        },
    )
    target = post(
        client,
        headers,
        "/targetConnections",
        {
            "name": "tgt",
            "connectionSpec": {"id": DATA_LAKE, "version": "1.0"},
            "data": {
                "format": "parquet_xdm",
                "schema": {
                    "id": schema["$id"],
                    "version": "application/vnd.adobe.xed-full+json;version=1",
                },
            },
            "params": {"dataSetId": dataset_id},
        },
    )
    flow_body: dict[str, Any] = {
        "name": "commerce-profile-sync",
        "flowSpec": {"id": spec, "version": "1.0"},
        "sourceConnectionIds": [source["id"]],
        "targetConnectionIds": [target["id"]],
    }
    if spec == DATA_PREP:
        flow_body["transformations"] = [
            {"name": "Mapping", "params": {"mappingId": "m1", "mappingVersion": 0}}
        ]
    flow = post(client, headers, "/flows", flow_body)
    return {
        "schema": schema,
        "dataset_id": dataset_id,
        "base": base,
        "source": source,
        "target": target,
        "flow": flow,
    }


def test_base_connection_has_inlet(client: TestClient, headers: dict[str, str]) -> None:
    made = post(client, headers, "/connections", base_body())
    answer = client.get(f"{FS}/connections/{made['id']}", headers=headers)
    assert answer.status_code == 200
    (item,) = answer.json()["items"]
    params = item["auth"]["params"]
    assert re.fullmatch(r"[0-9a-f]{64}", params["inletId"])
    assert params["inletUrl"] == f"http://aep.test/collection/{params['inletId']}"
    assert params["authenticationRequired"] is True
    assert params["sourceId"] == "commerce-profile-sync"
    assert item["etag"] == made["etag"]
    assert item["state"] == "enabled"
    assert item["connectionSpec"] == {"id": HTTP_API, "version": "1.0"}
    for key in ("createdAt", "updatedAt", "sandboxName", "imsOrgId", "version"):
        assert key in item


def test_chain_and_flow_document(client: TestClient, headers: dict[str, str]) -> None:
    made = chain(client, headers, DATA_PREP)
    (flow,) = client.get(f"{FS}/flows/{made['flow']['id']}", headers=headers).json()["items"]
    assert flow["flowSpec"]["id"] == DATA_PREP
    assert flow["sourceConnectionIds"] == [made["source"]["id"]]
    assert flow["targetConnectionIds"] == [made["target"]["id"]]
    assert flow["transformations"][0]["name"] == "Mapping"
    inherited = flow["inheritedAttributes"]["sourceConnections"][0]
    assert inherited["baseConnection"]["id"] == made["base"]["id"]
    (target,) = client.get(
        f"{FS}/targetConnections/{made['target']['id']}", headers=headers
    ).json()["items"]
    assert target["params"]["dataSetId"] == made["dataset_id"]


def test_flow_spec_is_recorded_for_the_inlet(client: TestClient, headers: dict[str, str]) -> None:
    resources = client.app.state.emulator.resources  # type: ignore[attr-defined]
    prep = chain(client, headers, DATA_PREP)
    assert resources.flows.get(prep["flow"]["id"]).supports_operations is True
    client.post("/_emulator/reset", json={"resources": True})
    plain = chain(client, headers, PASSTHROUGH)
    assert resources.flows.get(plain["flow"]["id"]).supports_operations is False


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("property=name==first", ["first"]),
        ("property=name==first&property=state==enabled", ["first"]),
        ("property=name~^sec", ["second"]),
        ("property=auth.params.dataType==xdm&orderby=-name", ["second", "first"]),
        ("orderby=name", ["first", "second"]),
        ("orderby=name&limit=1", ["first"]),
    ],
)
def test_list_filters(
    client: TestClient, headers: dict[str, str], query: str, expected: list[str]
) -> None:
    post(client, headers, "/connections", base_body("first"))
    post(client, headers, "/connections", base_body("second"))
    answer = client.get(f"{FS}/connections?{query}", headers=headers)
    assert answer.status_code == 200
    names = [i["name"] for i in answer.json()["items"]]
    assert (names if "orderby" in query else sorted(names)) == expected


def test_array_path_filter(client: TestClient, headers: dict[str, str]) -> None:
    made = chain(client, headers)
    source_id = made["source"]["id"]
    found = client.get(
        f"{FS}/flows", params={"property": f"sourceConnectionIds[]=={source_id}"}, headers=headers
    ).json()["items"]
    assert [f["id"] for f in found] == [made["flow"]["id"]]


def test_patch_needs_current_etag(client: TestClient, headers: dict[str, str]) -> None:
    made = post(client, headers, "/connections", base_body())
    url = f"{FS}/connections/{made['id']}"
    ops = [{"op": "replace", "path": "/name", "value": "renamed"}]
    stale = '"00000000-0000-0000-0000-000000000000"'
    refused = client.patch(url, json=ops, headers={**headers, "If-Match": stale})
    assert refused.status_code == 412
    assert refused.json() == {
        "errorMessage": f"Supplied version=[{stale}] does not match the current version on "
        f"entity=[{made['id']}]"
    }
    assert client.patch(url, json=ops, headers=headers).status_code == 400
    done = client.patch(url, json=ops, headers={**headers, "If-Match": made["etag"]})
    assert done.status_code == 200
    assert done.json()["etag"] != made["etag"]
    (item,) = client.get(url, headers=headers).json()["items"]
    assert item["name"] == "renamed"
    assert item["etag"] == done.json()["etag"]


def test_patch_keeps_the_inlet(client: TestClient, headers: dict[str, str]) -> None:
    made = post(client, headers, "/connections", base_body())
    url = f"{FS}/connections/{made['id']}"
    (before,) = client.get(url, headers=headers).json()["items"]
    ops = [{"op": "replace", "path": "/auth/params/inletUrl", "value": "http://evil/collection/x"}]
    client.patch(url, json=ops, headers={**headers, "If-Match": made["etag"]})
    (after,) = client.get(url, headers=headers).json()["items"]
    assert after["auth"]["params"]["inletUrl"] == before["auth"]["params"]["inletUrl"]


def test_update_flow_restarts_warm_up(client: TestClient, headers: dict[str, str]) -> None:
    made = chain(client, headers)
    url = f"{FS}/flows/{made['flow']['id']}"
    (before,) = client.get(url, headers=headers).json()["items"]
    ops = [{"op": "replace", "path": "/state", "value": "disabled"}]
    answer = client.patch(url, json=ops, headers={**headers, "If-Match": made["flow"]["etag"]})
    assert answer.status_code == 200
    (after,) = client.get(url, headers=headers).json()["items"]
    assert after["state"] == "disabled"
    assert after["updatedAt"] >= before["updatedAt"]
    spec = [{"op": "replace", "path": "/flowSpec/id", "value": DATA_PREP}]
    changed = client.patch(url, json=spec, headers={**headers, "If-Match": after["etag"]})
    assert changed.status_code == 400


def test_delete(client: TestClient, headers: dict[str, str]) -> None:
    made = post(client, headers, "/connections", base_body())
    url = f"{FS}/connections/{made['id']}"
    assert client.delete(url, headers=headers).status_code == 204
    missing = client.get(url, headers=headers)
    assert missing.status_code == 404
    assert "errorMessage" in missing.json()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/connections", {"name": "x", "connectionSpec": {"id": "unknown"}}),
        ("/connections", {"connectionSpec": {"id": HTTP_API}}),
        (
            "/sourceConnections",
            {"name": "x", "baseConnectionId": "nope", "connectionSpec": {"id": HTTP_API}},
        ),
        (
            "/targetConnections",
            {"name": "x", "connectionSpec": {"id": DATA_LAKE}, "params": {"dataSetId": "nope"}},
        ),
        (
            "/flows",
            {
                "name": "x",
                "flowSpec": {"id": "unknown"},
                "sourceConnectionIds": ["a"],
                "targetConnectionIds": ["b"],
            },
        ),
        (
            "/flows",
            {
                "name": "x",
                "flowSpec": {"id": PASSTHROUGH},
                "sourceConnectionIds": ["a"],
                "targetConnectionIds": ["b"],
            },
        ),
    ],
)
def test_create_refusals(
    client: TestClient, headers: dict[str, str], path: str, body: dict[str, Any]
) -> None:
    answer = client.post(f"{FS}{path}", json=body, headers=headers)
    assert answer.status_code == 400
    assert set(answer.json()) == {"errorMessage"}


def test_connection_specs_list_and_lookup(client: TestClient, headers: dict[str, str]) -> None:
    listed = client.get(f"{FS}/connectionSpecs", headers=headers)
    assert listed.status_code == 200
    by_name = {spec["name"]: spec for spec in listed.json()["items"]}
    assert by_name["Streaming Connection"]["id"] == HTTP_API
    assert by_name["Streaming Connection"]["providerId"] == "521eee4d-8cbe-4906-bb48-fb6bd4450033"
    assert by_name["datalake"]["id"] == DATA_LAKE
    found = client.get(
        f"{FS}/connectionSpecs", params={"property": "name==datalake"}, headers=headers
    ).json()["items"]
    assert [spec["id"] for spec in found] == [DATA_LAKE]
    one = client.get(f"{FS}/connectionSpecs/{HTTP_API}", headers=headers)
    assert one.json()["items"][0]["name"] == "Streaming Connection"
    missing = client.get(f"{FS}/connectionSpecs/nope", headers=headers)
    assert missing.status_code == 404
    assert "errorMessage" in missing.json()
