"""Identity Service namespaces (docs/AEP.md §5.4)."""

from __future__ import annotations

from starlette.testclient import TestClient

NAMESPACES = "/data/core/idnamespace/identities"
CUSTOMER_ID = {
    "name": "Commerce Customer ID",
    "code": "CustomerId",
    "description": "Adobe Commerce customer entity id",
    "idType": "CROSS_DEVICE",
}


def test_standard_namespaces_listed(client: TestClient, headers: dict[str, str]) -> None:
    listed = client.get(NAMESPACES, headers=headers).json()
    by_code = {n["code"]: n for n in listed}
    expected = {
        "Email": 6,
        "Phone": 7,
        "ECID": 4,
        "AdCloud": 411,
        "CORE": 0,
        "TNTID": 9,
        "IDFA": 20915,
        "GAID": 20914,
        "WAID": 8,
    }
    assert {code: by_code[code]["id"] for code in expected} == expected
    assert all(by_code[c]["custom"] is False for c in expected)
    assert set(by_code["Email"]) == {
        "updateTime",
        "code",
        "status",
        "description",
        "id",
        "createTime",
        "idType",
        "name",
        "custom",
    }
    assert "CRMID" not in by_code


def test_create_custom_namespace(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.post(NAMESPACES, json=CUSTOMER_ID, headers=headers)
    assert answer.status_code == 200
    body = answer.json()
    assert body["custom"] is True
    assert body["status"] == "ACTIVE"
    assert body["code"] == "CustomerId"
    assert isinstance(body["id"], int)
    assert client.get(f"{NAMESPACES}/{body['id']}", headers=headers).json()["code"] == "CustomerId"
    assert client.get(f"{NAMESPACES}/CustomerId", headers=headers).status_code == 200
    assert "CustomerId" in {n["code"] for n in client.get(NAMESPACES, headers=headers).json()}


def test_code_taken_once_regardless_of_case(client: TestClient, headers: dict[str, str]) -> None:
    assert client.post(NAMESPACES, json=CUSTOMER_ID, headers=headers).status_code == 200
    for code in ("CustomerId", "customerid", "EMAIL"):
        answer = client.post(NAMESPACES, json={**CUSTOMER_ID, "code": code}, headers=headers)
        assert answer.status_code == 400
        assert answer.json()["title"] == "BadRequestError"


def test_namespaces_are_never_deleted(client: TestClient, headers: dict[str, str]) -> None:
    made = client.post(NAMESPACES, json=CUSTOMER_ID, headers=headers).json()
    answer = client.delete(f"{NAMESPACES}/{made['id']}", headers=headers)
    assert answer.status_code == 405
    assert client.get(f"{NAMESPACES}/{made['id']}", headers=headers).status_code == 200


def test_create_validates_fields(client: TestClient, headers: dict[str, str]) -> None:
    for broken in (
        {"code": "X", "idType": "COOKIE"},
        {**CUSTOMER_ID, "idType": "NOPE"},
        {**CUSTOMER_ID, "code": "has space"},
    ):
        assert client.post(NAMESPACES, json=broken, headers=headers).status_code == 400


def test_unknown_namespace(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get(f"{NAMESPACES}/99999999", headers=headers).status_code == 404
