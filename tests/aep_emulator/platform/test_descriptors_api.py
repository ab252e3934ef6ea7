"""Schema Registry descriptors (docs/AEP.md §3.7)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.aep_emulator.platform.platform_api import ORG, SR, create_schema, with_accept

DESCRIPTORS = f"{SR}/tenant/descriptors"


def identity(schema_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "@type": "xdm:descriptorIdentity",
        "xdm:sourceSchema": schema_id,
        "xdm:sourceVersion": 1,
        "xdm:sourceProperty": "/personalEmail/address",
        "xdm:namespace": "Email",
        "xdm:property": "xdm:code",
        "xdm:isPrimary": True,
        **overrides,
    }


def test_create_echoes_with_id(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    answer = client.post(DESCRIPTORS, json=identity(schema["$id"]), headers=headers)
    assert answer.status_code == 201
    body = answer.json()
    assert body["@id"]
    assert body["meta:containerId"] == "tenant"
    assert body["imsOrg"] == ORG
    assert body["xdm:sourceProperty"] == "/personalEmail/address"
    assert body["xdm:isPrimary"] is True


def test_list_views_and_lookup(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    made = client.post(DESCRIPTORS, json=identity(schema["$id"]), headers=headers).json()
    links = client.get(
        DESCRIPTORS, headers=with_accept(headers, "application/vnd.adobe.xdm-link+json")
    ).json()
    assert links == {"xdm:descriptorIdentity": [f"/tenant/descriptors/{made['@id']}"]}
    ids = client.get(
        DESCRIPTORS, headers=with_accept(headers, "application/vnd.adobe.xdm-id+json")
    ).json()
    assert ids == {"xdm:descriptorIdentity": [made["@id"]]}
    objects = client.get(
        DESCRIPTORS,
        params={"property": f"xdm:sourceSchema=={schema['$id']}"},
        headers=with_accept(headers, "application/vnd.adobe.xdm+json"),
    ).json()
    assert objects["xdm:descriptorIdentity"][0]["xdm:namespace"] == "Email"
    # A lookup by @id needs no Accept header.
    one = client.get(f"{DESCRIPTORS}/{made['@id']}", headers=with_accept(headers, ""))
    assert one.status_code == 200
    assert {"created", "updated", "createdUser"} <= set(one.json())


def test_list_needs_accept(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.get(DESCRIPTORS, headers=with_accept(headers, ""))
    assert answer.status_code == 406


def test_only_one_primary_identity(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    assert client.post(DESCRIPTORS, json=identity(schema["$id"]), headers=headers).is_success
    second = identity(schema["$id"], **{"xdm:sourceProperty": "/userAccount/ID"})
    answer = client.post(DESCRIPTORS, json=second, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["title"] == "BadRequestError"
    assert answer.json()["detail"] == "Schemas may contain only one primary identity"
    not_primary = identity(
        schema["$id"], **{"xdm:sourceProperty": "/userAccount/ID", "xdm:isPrimary": False}
    )
    assert client.post(DESCRIPTORS, json=not_primary, headers=headers).status_code == 201


def test_source_property_rules(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    for bad in ("personalEmail/address", "/personalEmail/", "/properties/personalEmail"):
        body = identity(schema["$id"], **{"xdm:sourceProperty": bad})
        assert client.post(DESCRIPTORS, json=body, headers=headers).status_code == 400


def test_unknown_schema_or_namespace(client: TestClient, headers: dict[str, str]) -> None:
    assert (
        client.post(DESCRIPTORS, json=identity("https://x/none"), headers=headers).status_code
        == 400
    )
    schema = create_schema(client, headers)
    body = identity(schema["$id"], **{"xdm:namespace": "NoSuchNamespace"})
    assert client.post(DESCRIPTORS, json=body, headers=headers).status_code == 400


def test_put_and_delete(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    made = client.post(DESCRIPTORS, json=identity(schema["$id"]), headers=headers).json()
    url = f"{DESCRIPTORS}/{made['@id']}"
    replaced = client.put(
        url, json=identity(schema["$id"], **{"xdm:isPrimary": False}), headers=headers
    )
    assert replaced.status_code == 201
    assert replaced.json() == {"@id": made["@id"]}
    assert client.get(url, headers=headers).json()["xdm:isPrimary"] is False
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_source_property_must_exist(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    body = identity(schema["$id"], **{"xdm:sourceProperty": "/personalEmail/nothing"})
    answer = client.post(DESCRIPTORS, json=body, headers=headers)
    assert answer.status_code == 400
    assert "/personalEmail/nothing" in answer.json()["detail"]
