"""How `/data/...` paths route: one trailing slash like none, and JSON for unknown routes and
methods (clients parse every Platform answer as JSON)."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.aep_emulator.platform.platform_api import (
    PROFILE,
    SR,
    TENANT,
    XED_ID,
    encoded,
    schema_body,
    with_accept,
)

PROBLEM = "/placeholder/type/uri"


def test_trailing_slash_on_lists_and_stats(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get(f"{SR}/stats/", headers=headers).json()["tenantId"] == TENANT
    groups = client.get(f"{SR}/global/fieldgroups/", headers=with_accept(headers, XED_ID))
    assert groups.status_code == 200
    assert groups.json()["results"]
    classes = client.get(f"{SR}/global/classes/", headers=with_accept(headers, XED_ID))
    assert [c["$id"] for c in classes.json()["results"]] == [PROFILE]
    schemas = client.get(f"{SR}/tenant/schemas/", headers=with_accept(headers, XED_ID))
    assert schemas.status_code == 200
    assert schemas.json()["results"] == []


def test_trailing_slash_on_create_and_patch(client: TestClient, headers: dict[str, str]) -> None:
    created = client.post(f"{SR}/tenant/schemas/", json=schema_body(union=False), headers=headers)
    assert created.status_code == 201, created.text
    schema_id = created.json()["$id"]
    patched = client.patch(
        f"{SR}/tenant/schemas/{encoded(schema_id)}/",
        json=[{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}],
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["$id"] == schema_id
    assert patched.json()["meta:immutableTags"] == ["union"]


def test_unknown_route_is_a_json_404(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.get("/data/foundation/nothing-here", headers=headers)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "type": PROBLEM,
        "status": 404,
        "title": "NotFoundError",
        "detail": "No resource at /data/foundation/nothing-here",
    }


def test_unknown_method_is_a_json_405(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.put("/data/foundation/catalog/dataSets", json={}, headers=headers)
    assert answer.status_code == 405
    assert answer.json()["title"] == "MethodNotAllowedError"
    assert answer.json()["status"] == 405
    assert "POST" in answer.headers["allow"]


def test_outside_data_unknown_routes_stay_plain(client: TestClient) -> None:
    answer = client.get("/nothing-here")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/plain")
