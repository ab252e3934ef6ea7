"""Gateway header checks on `/data/...` (docs/AEP.md §1.3, §1.4) and the writes counter."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.aep_emulator.platform.platform_api import CLIENT_ID, SR

STATS = f"{SR}/stats"


def test_valid_headers_pass(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get(STATS, headers=headers).status_code == 200


def test_missing_authorization(client: TestClient, headers: dict[str, str]) -> None:
    del headers["Authorization"]
    answer = client.get(STATS, headers=headers)
    assert answer.status_code == 403
    assert answer.json() == {"error_code": "403010", "message": "Oauth token is missing."}


@pytest.mark.parametrize("value", ["Bearer not-issued-here", "Basic abc", "Bearer "])
def test_invalid_token(client: TestClient, headers: dict[str, str], value: str) -> None:
    headers["Authorization"] = value
    answer = client.get(STATS, headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"error_code": "401013", "message": "Oauth token is not valid"}


def test_missing_api_key(client: TestClient, headers: dict[str, str]) -> None:
    del headers["x-api-key"]
    answer = client.get(STATS, headers=headers)
    assert answer.status_code == 403
    assert answer.json() == {"error_code": "403000", "message": "Api Key is required"}


def test_api_key_of_another_client(client: TestClient, headers: dict[str, str]) -> None:
    headers["x-api-key"] = CLIENT_ID + "-other"
    answer = client.get(STATS, headers=headers)
    assert answer.status_code == 403
    assert answer.json() == {"error_code": "403003", "message": "Api Key is invalid"}


def test_missing_org(client: TestClient, headers: dict[str, str]) -> None:
    del headers["x-gw-ims-org-id"]
    answer = client.get(STATS, headers=headers)
    assert answer.status_code == 400
    assert answer.json() == {"error_code": "400003", "message": "Missing header"}


def test_malformed_org(client: TestClient, headers: dict[str, str]) -> None:
    headers["x-gw-ims-org-id"] = "not-an-org"
    answer = client.get(STATS, headers=headers)
    assert answer.status_code == 403
    assert answer.json() == {"error_code": "403027", "message": "User region is missing"}


def test_credential_used_with_another_org(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get(STATS, headers=headers).status_code == 200
    headers["x-gw-ims-org-id"] = "1111111111111111@AdobeOrg"
    answer = client.get(STATS, headers=headers)
    assert answer.status_code == 403
    assert answer.json() == {"error_code": "403025", "message": "Profile is not valid"}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml"])
def test_write_needs_json_content_type(
    client: TestClient, headers: dict[str, str], content_type: str | None
) -> None:
    if content_type is not None:
        headers["Content-Type"] = content_type
    answer = client.post(f"{SR}/tenant/schemas", content=b"{}", headers=headers)
    assert answer.status_code == 400
    assert answer.json() == {
        "type": "/placeholder/type/uri",
        "status": 400,
        "title": "BadRequestError",
        "detail": "A valid content-type must be specified",
    }


def test_sandbox_defaults_to_prod_and_configured_ones_pass(
    client: TestClient, headers: dict[str, str]
) -> None:
    del headers["x-sandbox-name"]
    assert client.get(STATS, headers=headers).status_code == 200
    assert client.get(STATS, headers={**headers, "x-sandbox-name": "dev"}).status_code == 200


def test_unknown_sandbox_refused_naming_it(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.get(STATS, headers={**headers, "x-sandbox-name": "staging-x"})
    assert answer.status_code == 403
    assert "staging-x" in answer.text


def test_every_non_get_platform_call_counts_as_a_write(
    client: TestClient, headers: dict[str, str]
) -> None:
    namespaces = "/data/core/idnamespace/identities"
    client.get(namespaces, headers=headers)
    body = {"name": "Commerce Customer ID", "code": "CustomerId", "idType": "CROSS_DEVICE"}
    assert client.post(namespaces, json=body, headers=headers).status_code == 200
    assert client.post(namespaces, json=body, headers=headers).status_code == 400
    client.get(namespaces, headers=headers)
    writes = client.get("/_emulator/stats").json()["requests"]["writes"]
    assert writes == 2
