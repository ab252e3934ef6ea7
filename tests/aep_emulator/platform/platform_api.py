"""Constants and request helpers shared by the Platform API contract tests."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.testclient import TestClient

ORG = "0DD379AC5B117F6E0A494106@AdobeOrg"
CLIENT_ID = "platform-tests"
TENANT = "commerceemu"
SR = "/data/foundation/schemaregistry"
XED_ID = "application/vnd.adobe.xed-id+json"
XED = "application/vnd.adobe.xed+json; version=1"
XED_FULL = "application/vnd.adobe.xed-full+json; version=1"
PROFILE = "https://ns.adobe.com/xdm/context/profile"
IDENTITY_MAP = "https://ns.adobe.com/xdm/context/identitymap"
PERSON = "https://ns.adobe.com/xdm/context/profile-person-details"
PERSONAL = "https://ns.adobe.com/xdm/context/profile-personal-details"
ACCOUNT = "https://ns.adobe.com/xdm/mixins/profile/profile-user-account-details"
AUDIT = "https://ns.adobe.com/xdm/common/external-source-system-audit-details"


def with_accept(headers: dict[str, str], accept: str) -> dict[str, str]:
    return {**headers, "Accept": accept}


def encoded(resource_id: str) -> str:
    return quote(resource_id, safe="")


def schema_body(title: str = "Commerce Customer Profile", union: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "object",
        "title": title,
        "description": "profiles from Commerce",
        "allOf": [{"$ref": ref} for ref in (PROFILE, IDENTITY_MAP, PERSON, PERSONAL, ACCOUNT)],
    }
    if union:
        body["meta:immutableTags"] = ["union"]
    return body


def create_schema(client: TestClient, headers: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    answer = client.post(
        f"{SR}/tenant/schemas",
        json=schema_body(**kwargs),
        headers=with_accept(headers, "application/vnd.adobe.xed+json"),
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def create_dataset(
    client: TestClient, headers: dict[str, str], schema_id: str, profile: bool = True
) -> str:
    body: dict[str, Any] = {
        "name": "Commerce Customer Profiles",
        "schemaRef": {
            "id": schema_id,
            "contentType": "application/vnd.adobe.xed-full+json;version=1",
        },
    }
    if profile:
        body["tags"] = {"unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]}
    answer = client.post("/data/foundation/catalog/dataSets", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    (ref,) = answer.json()
    return str(ref).removeprefix("@/dataSets/")
