"""The `xdm` Accept types (standard XDM names) beside the `xed` ones (compatibility names)."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.aep_emulator.platform.platform_api import (
    PERSON,
    PROFILE,
    SR,
    XED_FULL,
    create_schema,
    encoded,
    with_accept,
)

XDM = "application/vnd.adobe.xdm+json"
XDM_ID = "application/vnd.adobe.xdm-id+json"
XDM_FULL = "application/vnd.adobe.xdm-full+json; version=1"
XED = "application/vnd.adobe.xed+json"


def _person_details(results: list[dict[str, object]]) -> dict[str, object]:
    return next(r for r in results if r["$id"] == PERSON)


def test_field_group_list_in_both_notations(client: TestClient, headers: dict[str, str]) -> None:
    standard = client.get(f"{SR}/global/fieldgroups/", headers=with_accept(headers, XDM))
    assert standard.status_code == 200
    properties = _person_details(standard.json()["results"])["definitions"]
    assert "xdm:person" in properties["profile-person-details"]["properties"]  # type: ignore[index]
    compatible = client.get(f"{SR}/global/fieldgroups", headers=with_accept(headers, XED))
    properties = _person_details(compatible.json()["results"])["definitions"]
    person = properties["profile-person-details"]["properties"]["person"]  # type: ignore[index]
    assert person["meta:xdmField"] == "xdm:person"


def test_id_lists_in_xdm_notation(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    listed = client.get(f"{SR}/tenant/schemas", headers=with_accept(headers, XDM_ID)).json()
    assert listed["results"] == [{k: schema[k] for k in ("$id", "meta:altId", "version", "title")}]


def test_resolved_schema_in_standard_names(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    path = f"{SR}/tenant/schemas/{encoded(schema['$id'])}"
    standard = client.get(path, headers=with_accept(headers, XDM_FULL))
    assert standard.status_code == 200, standard.text
    properties = standard.json()["properties"]
    assert properties["xdm:person"]["properties"]["xdm:name"]["properties"]["xdm:firstName"]
    assert "@id" in properties
    assert "repo:createDate" in properties
    assert "meta:xdmField" not in properties["xdm:person"]
    compatible = client.get(path, headers=with_accept(headers, XED_FULL)).json()["properties"]
    assert compatible["person"]["properties"]["name"]["properties"]["firstName"]
    assert compatible["_id"]["meta:xdmField"] == "@id"
    assert compatible["_repo"]["properties"]["createDate"]["meta:xdmField"] == "repo:createDate"


def test_class_lookup_in_both_notations(client: TestClient, headers: dict[str, str]) -> None:
    path = f"{SR}/global/classes/{encoded(PROFILE)}"
    raw = client.get(
        path, headers=with_accept(headers, "application/vnd.adobe.xdm+json; version=1")
    )
    assert "xdm:personID" in raw.json()["definitions"]["profile"]["properties"]
    compatible = client.get(path, headers=with_accept(headers, f"{XED}; version=1")).json()
    assert "personID" in compatible["definitions"]["profile"]["properties"]
    full = client.get(path, headers=with_accept(headers, XDM_FULL))
    assert full.status_code == 200
    assert "xdm:personID" in full.json()["properties"]


def test_unknown_notation_is_still_refused(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.get(
        f"{SR}/tenant/schemas", headers=with_accept(headers, "application/vnd.adobe.xyz+json")
    )
    assert answer.status_code == 406
