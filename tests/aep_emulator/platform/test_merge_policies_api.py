"""Profile merge policies: the one default policy for `_xdm.context.profile`."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.aep_emulator.platform.platform_api import ORG

POLICIES = "/data/core/ups/config/mergePolicies"


def test_default_policy_is_listed_and_found(client: TestClient, headers: dict[str, str]) -> None:
    listed = client.get(
        POLICIES, params={"schema.name": "_xdm.context.profile", "default": "true"}, headers=headers
    )
    assert listed.status_code == 200
    body = listed.json()
    assert body["_links"]["next"] == {"href": ""}
    (policy,) = body["children"]
    assert policy["schema"] == {"name": "_xdm.context.profile"}
    assert policy["default"] is True
    assert policy["imsOrgId"] == ORG
    assert policy["attributeMerge"] == {"type": "timestampOrdered"}
    assert policy["identityGraph"] == {"type": "pdg"}
    one = client.get(f"{POLICIES}/{policy['id']}", headers=headers)
    assert one.json() == policy


def test_filters_and_unknown_ids(client: TestClient, headers: dict[str, str]) -> None:
    others = client.get(POLICIES, params={"default": "false"}, headers=headers).json()
    assert others["children"] == []
    events = client.get(
        POLICIES, params={"schema.name": "_xdm.context.experienceevent"}, headers=headers
    ).json()
    assert events["children"] == []
    missing = client.get(f"{POLICIES}/nope", headers=headers)
    assert missing.status_code == 404
    assert client.get(POLICIES, params={"limit": "0"}, headers=headers).status_code == 400
    assert client.get(POLICIES).status_code == 403
