"""Catalog datasets (docs/AEP.md §4)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.aep_emulator.platform.platform_api import ORG, create_dataset, create_schema

DATASETS = "/data/foundation/catalog/dataSets"
NOT_UNION = {
    "type": "/placeholder/type/uri",
    "status": 400,
    "title": "BadRequestError",
    "detail": "To enable profile datasets the schema should be valid",
}


def test_create_answers_with_ref_and_lookup_shape(
    client: TestClient, headers: dict[str, str]
) -> None:
    schema = create_schema(client, headers)
    dataset_id = create_dataset(client, headers, schema["$id"])
    assert len(dataset_id) == 24
    int(dataset_id, 16)
    answer = client.get(f"{DATASETS}/{dataset_id}", headers=headers)
    assert answer.status_code == 200
    body = answer.json()[dataset_id]
    assert body["name"] == "Commerce Customer Profiles"
    assert body["imsOrg"] == ORG
    assert body["schemaRef"]["id"] == schema["$id"]
    assert body["tags"]["unifiedProfile"] == ["enabled:true"]
    assert body["tags"]["unifiedIdentity"] == ["enabled:true"]
    assert body["files"] == f"@/dataSetFiles?dataSetId={dataset_id}"


def test_dataset_classification(client: TestClient, headers: dict[str, str]) -> None:
    """Profile schemas have the record behaviour; listed datasets carry the same object."""
    schema = create_schema(client, headers)
    dataset_id = create_dataset(client, headers, schema["$id"])
    classification = {"dataBehavior": "record", "managedBy": "CUSTOMER"}
    one = client.get(f"{DATASETS}/{dataset_id}", headers=headers).json()[dataset_id]
    assert one["classification"] == classification
    listed = client.get(DATASETS, headers=headers).json()
    assert listed[dataset_id]["classification"] == classification
    # The system tag naming its Query Service table.
    assert one["tags"]["adobe/pqs/table"] == ["commerce_customer_profiles"]


def test_profile_needs_union_schema(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers, union=False)
    body = {
        "name": "x",
        "schemaRef": {"id": schema["$id"]},
        "tags": {"unifiedProfile": ["enabled:true"]},
    }
    answer = client.post(DATASETS, json=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json() == NOT_UNION


def test_patch_tags_enables_profile_only_on_union(
    client: TestClient, headers: dict[str, str]
) -> None:
    plain = create_schema(client, headers, title="Plain", union=False)
    dataset_id = create_dataset(client, headers, plain["$id"], profile=False)
    enable = [
        {"op": "add", "path": "/tags/unifiedProfile", "value": ["enabled:true"]},
        {"op": "add", "path": "/tags/unifiedIdentity", "value": ["enabled:true"]},
    ]
    patch_headers = {**headers, "Content-Type": "application/json-patch+json"}
    url = f"{DATASETS}/{dataset_id}"
    refused = client.patch(url, json=enable, headers=patch_headers)
    assert refused.status_code == 400
    assert refused.json() == NOT_UNION
    union = create_schema(client, headers, title="Union")
    other_id = create_dataset(client, headers, union["$id"], profile=False)
    done = client.patch(f"{DATASETS}/{other_id}", json=enable, headers=patch_headers)
    assert done.status_code == 200
    assert done.json() == [f"@/dataSets/{other_id}"]
    tags = client.get(f"{DATASETS}/{other_id}", headers=headers).json()[other_id]["tags"]
    assert tags["unifiedProfile"] == ["enabled:true"]


def test_unknown_dataset_and_schema(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get(f"{DATASETS}/{'0' * 24}", headers=headers).status_code == 404
    body = {"name": "x", "schemaRef": {"id": "https://ns.adobe.com/nope/schemas/1"}}
    assert client.post(DATASETS, json=body, headers=headers).status_code == 400


def _names(answer: Any) -> list[str]:
    return [d["name"] for d in answer.json().values()]


@pytest.fixture
def three(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    schema = create_schema(client, headers)
    ids = {}
    for name, profile in (("alpha", True), ("beta", False), ("gamma*", True)):
        body: dict[str, Any] = {"name": name, "schemaRef": {"id": schema["$id"]}}
        if profile:
            body["tags"] = {"unifiedProfile": ["enabled:true"]}
        ref = client.post(DATASETS, json=body, headers=headers).json()[0]
        ids[name] = ref.removeprefix("@/dataSets/")
    return ids


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["alpha", "beta", "gamma*"]),
        ({"name": "alpha"}, ["alpha"]),
        ({"name": "alpha,beta"}, ["alpha", "beta"]),
        ({"name": "!alpha"}, ["beta", "gamma*"]),
        ({"name": "g*"}, ["gamma*"]),
        ({"name": "gamma**"}, ["gamma*"]),
        ({"property": "name==beta"}, ["beta"]),
        ({"property": "name~^(alpha|beta)$"}, ["alpha", "beta"]),
        ({"property": "!nothing"}, ["alpha", "beta", "gamma*"]),
        ({"tags": "unifiedProfile:*"}, ["alpha", "gamma*"]),
        ({"tags": "unifiedProfile:enabled:true"}, ["alpha", "gamma*"]),
        ({"orderBy": "desc:name"}, ["gamma*", "beta", "alpha"]),
        ({"orderBy": "asc:name", "limit": "2"}, ["alpha", "beta"]),
        ({"orderBy": "asc:name", "start": "1", "limit": "1"}, ["beta"]),
    ],
)
def test_list_filters(
    client: TestClient,
    headers: dict[str, str],
    three: dict[str, str],
    params: dict[str, str],
    expected: list[str],
) -> None:
    answer = client.get(DATASETS, params=params, headers=headers)
    assert answer.status_code == 200
    got = _names(answer)
    assert (got if "orderBy" in params else sorted(got)) == expected


def test_list_is_keyed_by_id_and_trims(
    client: TestClient, headers: dict[str, str], three: dict[str, str]
) -> None:
    answer = client.get(DATASETS, params={"properties": "name,schemaRef"}, headers=headers)
    body = answer.json()
    assert set(body) == set(three.values())
    assert all(set(d) == {"name", "schemaRef"} for d in body.values())


@pytest.mark.parametrize("limit", ["0", "101", "x"])
def test_bad_limit(client: TestClient, headers: dict[str, str], limit: str) -> None:
    assert client.get(DATASETS, params={"limit": limit}, headers=headers).status_code == 400
