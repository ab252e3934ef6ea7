"""Schema Registry contract (docs/AEP.md §3.1-§3.6, §3.8-§3.10)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from schemas.xdm.resolver import tenant_field_group
from tests.aep_emulator.platform.platform_api import (
    ACCOUNT,
    AUDIT,
    ORG,
    PROFILE,
    SR,
    TENANT,
    XED,
    XED_FULL,
    XED_ID,
    create_dataset,
    create_schema,
    encoded,
    schema_body,
    with_accept,
)

PROBLEM = "/placeholder/type/uri"


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"type": PROBLEM, "status": status, "title": title, "detail": detail}


def test_stats_names_the_tenant_and_counts(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    stats = client.get(f"{SR}/stats", headers=headers).json()
    assert stats["tenantId"] == TENANT
    assert stats["imsOrg"] == ORG
    assert stats["counts"]["schemas"] == 1
    assert stats["counts"]["unions"] == 1
    assert stats["recentlyCreatedResources"][0]["$id"] == schema["$id"]
    assert stats["classUsage"][PROFILE][0]["$id"] == schema["$id"]


def test_global_field_group_found_by_title(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.get(
        f"{SR}/global/fieldgroups",
        params={"property": "title==User Account Details"},
        headers=with_accept(headers, XED_ID),
    )
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert results == [
        {
            "$id": ACCOUNT,
            "meta:altId": "_xdm.mixins.profile.profile-user-account-details",
            "version": "1.0",
            "title": "User Account Details",
        }
    ]


@pytest.mark.parametrize("key", [PROFILE, "_xdm.context.profile"])
def test_global_class_lookup_by_id_or_alt_id(
    client: TestClient, headers: dict[str, str], key: str
) -> None:
    answer = client.get(f"{SR}/global/classes/{encoded(key)}", headers=with_accept(headers, XED))
    assert answer.status_code == 200
    assert answer.json()["$id"] == PROFILE
    assert answer.json()["title"] == "XDM Individual Profile"
    assert answer.json()["meta:containerId"] == "global"


def test_create_schema_answer_shape(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    assert schema["$id"].startswith(f"https://ns.adobe.com/{TENANT}/schemas/")
    assert schema["meta:altId"] == f"_{TENANT}.schemas." + schema["$id"].rsplit("/", 1)[1]
    assert schema["meta:resourceType"] == "schemas"
    assert schema["version"] == "1.0"
    assert schema["meta:class"] == PROFILE
    assert schema["meta:abstract"] is False
    assert schema["meta:extensible"] is False
    assert schema["meta:extends"][:2] == [PROFILE, "https://ns.adobe.com/xdm/data/record"]
    assert ACCOUNT in schema["meta:extends"]
    assert schema["meta:immutableTags"] == ["union"]
    assert schema["meta:containerId"] == "tenant"
    assert schema["imsOrg"] == ORG
    assert schema["meta:xdmType"] == "object"
    assert "repo:createDate" in schema["meta:registryMetadata"]


def test_lookup_by_encoded_id_and_alt_id(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    for key in (encoded(schema["$id"]), schema["meta:altId"]):
        answer = client.get(f"{SR}/tenant/schemas/{key}", headers=with_accept(headers, XED))
        assert answer.status_code == 200
        body = answer.json()
        assert body["$id"] == schema["$id"]
        assert body["meta:tenantNamespace"] == f"_{TENANT}"
        assert "eTag" in body["meta:registryMetadata"]
        assert body["meta:sandboxType"] == "production"


def test_resolved_lookup_has_compat_mode_fields(
    client: TestClient, headers: dict[str, str]
) -> None:
    schema = create_schema(client, headers)
    answer = client.get(
        f"{SR}/tenant/schemas/{encoded(schema['$id'])}", headers=with_accept(headers, XED_FULL)
    )
    properties = answer.json()["properties"]
    assert {"identityMap", "person", "personalEmail", "userAccount", "_id"} <= set(properties)
    assert "allOf" not in answer.json()


def test_list_with_property_filter(client: TestClient, headers: dict[str, str]) -> None:
    first = create_schema(client, headers, title="A schema")
    create_schema(client, headers, title="B schema")
    answer = client.get(
        f"{SR}/tenant/schemas",
        params={"property": "title==A schema"},
        headers=with_accept(headers, XED_ID),
    )
    body = answer.json()
    assert [r["$id"] for r in body["results"]] == [first["$id"]]
    assert body["_page"]["count"] == 1
    assert "global_schemas" in body["_links"]
    ordered = client.get(
        f"{SR}/tenant/schemas", params={"orderby": "-title"}, headers=with_accept(headers, XED_ID)
    ).json()["results"]
    assert [r["title"] for r in ordered] == ["B schema", "A schema"]


def test_full_list_returns_resources(client: TestClient, headers: dict[str, str]) -> None:
    create_schema(client, headers)
    results = client.get(
        f"{SR}/tenant/schemas", headers=with_accept(headers, "application/vnd.adobe.xed+json")
    ).json()["results"]
    assert results[0]["allOf"][0] == {"$ref": PROFILE}


@pytest.mark.parametrize(
    ("path", "accept", "expected"),
    [
        (
            "/tenant/schemas/_x.schemas.y",
            None,
            problem(406, "NotAcceptableError", "Accept header parameter is required"),
        ),
        (
            "/tenant/schemas",
            "xed+json",
            problem(406, "NotAcceptableError", "Unknown Accept media supplied: xed+json"),
        ),
        (
            "/global/classes/_xdm.context.profile",
            "application/vnd.adobe.xed+json",
            problem(
                400,
                "BadRequestError",
                "version must be supplied in the accept header. Example: "
                "application/vnd.adobe.xed-full-notext+json; version=1",
            ),
        ),
        (
            "/tenant/schemas",
            "application/vnd.adobe.xed-full+json; version=1",
            problem(
                400,
                "BadRequestError",
                "version must not be supplied in the accept header. Example: "
                "application/vnd.adobe.xed-full+json",
            ),
        ),
    ],
)
def test_accept_rules(
    client: TestClient,
    headers: dict[str, str],
    path: str,
    accept: str | None,
    expected: dict[str, Any],
) -> None:
    # httpx sends */* when no Accept is given; an empty header is "missing".
    sent = with_accept(headers, accept if accept is not None else "")
    answer = client.get(f"{SR}{path}", headers=sent)
    assert answer.status_code == expected["status"]
    assert answer.json() == expected


def test_unknown_schema_is_not_found(client: TestClient, headers: dict[str, str]) -> None:
    missing = f"https://ns.adobe.com/{TENANT}/schemas/0000"
    answer = client.get(
        f"{SR}/tenant/schemas/{encoded(missing)}", headers=with_accept(headers, XED)
    )
    assert answer.status_code == 404
    assert answer.json() == problem(
        404, "NotFoundError", f"Object {missing} with version 1 not found"
    )


def test_titles_unique_across_resource_types(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    again = client.post(f"{SR}/tenant/schemas", json=schema_body(), headers=headers)
    assert again.status_code == 400
    detail = f"Title must be unique. An object {schema['$id']} already exists with the same title."
    assert again.json() == problem(400, "BadRequestError", detail)
    group = field_group_body(title="Commerce Customer Profile")
    clash = client.post(f"{SR}/tenant/fieldgroups", json=group, headers=headers)
    assert clash.status_code == 400
    assert clash.json()["detail"] == detail


def test_schema_needs_exactly_one_class(client: TestClient, headers: dict[str, str]) -> None:
    body = schema_body()
    body["allOf"] = body["allOf"][1:]
    assert client.post(f"{SR}/tenant/schemas", json=body, headers=headers).status_code == 400
    body = schema_body()
    body["allOf"].append({"$ref": "https://ns.adobe.com/xdm/nothing"})
    answer = client.post(f"{SR}/tenant/schemas", json=body, headers=headers)
    assert answer.status_code == 400


def test_patch_adds_field_group_and_union_tag(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers, union=False)
    url = f"{SR}/tenant/schemas/{encoded(schema['$id'])}"
    answer = client.patch(
        url,
        json=[
            {"op": "add", "path": "/meta:extends/-", "value": AUDIT},
            {"op": "add", "path": "/allOf/-", "value": {"$ref": AUDIT}},
            {"op": "add", "path": "/meta:immutableTags", "value": ["union"]},
        ],
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["version"] == "1.1"
    assert body["meta:immutableTags"] == ["union"]
    assert {"$ref": AUDIT} in body["allOf"]
    assert body["meta:extends"].count(AUDIT) == 1


def test_union_tag_can_never_be_removed(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    url = f"{SR}/tenant/schemas/{encoded(schema['$id'])}"
    answer = client.patch(
        url, json=[{"op": "remove", "path": "/meta:immutableTags"}], headers=headers
    )
    assert answer.status_code == 400
    assert answer.json()["title"] == "BadRequestError"
    lookup = client.get(url, headers=with_accept(headers, XED)).json()
    assert lookup["meta:immutableTags"] == ["union"]


def test_field_group_of_used_schema_cannot_be_removed(
    client: TestClient, headers: dict[str, str]
) -> None:
    schema = create_schema(client, headers)
    url = f"{SR}/tenant/schemas/{encoded(schema['$id'])}"
    drop_last = [{"op": "remove", "path": "/allOf/4"}, {"op": "remove", "path": "/meta:extends/6"}]
    create_dataset(client, headers, schema["$id"])  # Profile-enabled: the schema is now used
    refused = client.patch(url, json=drop_last, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["title"] == "BadRequestError"
    assert ACCOUNT in refused.json()["detail"]
    delete = client.delete(url, headers=headers)
    assert delete.status_code == 400


def test_unused_schema_may_change_and_be_deleted(
    client: TestClient, headers: dict[str, str]
) -> None:
    schema = create_schema(client, headers, union=False)
    url = f"{SR}/tenant/schemas/{encoded(schema['$id'])}"
    answer = client.patch(url, json=[{"op": "remove", "path": "/allOf/4"}], headers=headers)
    assert answer.status_code == 200
    assert ACCOUNT not in answer.json()["meta:extends"]
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=with_accept(headers, XED)).status_code == 404


def test_bad_json_patch(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    url = f"{SR}/tenant/schemas/{encoded(schema['$id'])}"
    answer = client.patch(url, json=[{"op": "remove", "path": "/nope"}], headers=headers)
    assert answer.status_code == 400
    assert client.patch(url, json={"op": "add"}, headers=headers).status_code == 400


def test_put_replaces_schema(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    body = schema_body(title="Renamed")
    url = f"{SR}/tenant/schemas/{schema['meta:altId']}"
    answer = client.put(url, json=body, headers=headers)
    assert answer.status_code == 200
    assert answer.json()["title"] == "Renamed"
    assert answer.json()["$id"] == schema["$id"]


def field_group_body(
    title: str = "Commerce Customer Fields", kind: str = "string"
) -> dict[str, Any]:
    return {
        "type": "object",
        "title": title,
        "meta:intendedToExtend": [PROFILE],
        "definitions": {
            "commerce-fields": {
                "properties": {
                    f"_{TENANT}": {
                        "type": "object",
                        "properties": {
                            "commerce": {
                                "type": "object",
                                "properties": {"websiteCode": {"type": kind}},
                            }
                        },
                    }
                }
            }
        },
        "allOf": [{"$ref": "#/definitions/commerce-fields"}],
    }


def test_create_tenant_field_group_and_use_it(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.post(f"{SR}/tenant/fieldgroups", json=field_group_body(), headers=headers)
    assert answer.status_code == 201
    group = answer.json()
    assert group["$id"].startswith(f"https://ns.adobe.com/{TENANT}/mixins/")
    assert group["meta:resourceType"] == "mixins"
    body = schema_body()
    body["allOf"].append({"$ref": group["$id"]})
    schema = client.post(f"{SR}/tenant/schemas", json=body, headers=headers).json()
    resolved = client.get(
        f"{SR}/tenant/schemas/{encoded(schema['$id'])}", headers=with_accept(headers, XED_FULL)
    ).json()
    commerce = resolved["properties"][f"_{TENANT}"]["properties"]["commerce"]
    assert "websiteCode" in commerce["properties"]
    found = client.get(
        f"{SR}/tenant/fieldgroups",
        params={"property": "title==Commerce Customer Fields"},
        headers=with_accept(headers, XED_ID),
    ).json()["results"]
    assert [r["$id"] for r in found] == [group["$id"]]


def test_custom_fields_must_sit_under_tenant(client: TestClient, headers: dict[str, str]) -> None:
    body = field_group_body()
    definition = body["definitions"]["commerce-fields"]
    definition["properties"] = {"websiteCode": {"type": "string"}}
    answer = client.post(f"{SR}/tenant/fieldgroups", json=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(
        f"For custom fields, you must use a top level field named _{TENANT}"
    )


def test_used_field_group_cannot_retype_a_field(
    client: TestClient, headers: dict[str, str]
) -> None:
    group = client.post(f"{SR}/tenant/fieldgroups", json=field_group_body(), headers=headers).json()
    body = schema_body()
    body["allOf"].append({"$ref": group["$id"]})
    schema = client.post(f"{SR}/tenant/schemas", json=body, headers=headers).json()
    create_dataset(client, headers, schema["$id"])
    url = f"{SR}/tenant/fieldgroups/{encoded(group['$id'])}"
    retype = client.put(url, json=field_group_body(kind="integer"), headers=headers)
    assert retype.status_code == 400
    path = f"/_{TENANT}/commerce/websiteCode"
    assert retype.json()["detail"] == f"Field {path} cannot change its type in a schema in use"
    added = field_group_body()
    commerce = added["definitions"]["commerce-fields"]["properties"][f"_{TENANT}"]["properties"]
    commerce["commerce"]["properties"]["storeCode"] = {"type": "string"}
    assert client.put(url, json=added, headers=headers).status_code == 200


def test_field_type_unique_across_tenant(client: TestClient, headers: dict[str, str]) -> None:
    client.post(f"{SR}/tenant/fieldgroups", json=field_group_body(), headers=headers)
    other = field_group_body(title="Other", kind="integer")
    answer = client.post(f"{SR}/tenant/fieldgroups", json=other, headers=headers)
    assert answer.status_code == 400


def test_mixins_path_is_an_alias(client: TestClient, headers: dict[str, str]) -> None:
    made = client.post(f"{SR}/tenant/mixins", json=field_group_body(), headers=headers).json()
    lookup = client.get(
        f"{SR}/tenant/fieldgroups/{made['meta:altId']}", headers=with_accept(headers, XED)
    )
    assert lookup.status_code == 200
    assert lookup.json()["$id"] == made["$id"]
    listed = client.get(f"{SR}/global/mixins", headers=with_accept(headers, XED_ID)).json()
    assert AUDIT in {r["$id"] for r in listed["results"]}
    nothing = client.get(f"{SR}/global/schemas", headers=with_accept(headers, XED_ID))
    assert nothing.json()["results"] == []


def test_notext_view_drops_nested_titles(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    notext = "application/vnd.adobe.xed-full-notext+json; version=1"
    body = client.get(
        f"{SR}/tenant/schemas/{encoded(schema['$id'])}", headers=with_accept(headers, notext)
    ).json()
    assert body["title"] == "Commerce Customer Profile"
    assert "title" not in body["properties"]["person"]
    assert "description" not in body["properties"]["person"]


def test_body_must_be_json(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.post(
        f"{SR}/tenant/schemas",
        content=b"{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["title"] == "BadRequestError"


def test_field_group_delete_only_when_unused(client: TestClient, headers: dict[str, str]) -> None:
    group = client.post(f"{SR}/tenant/fieldgroups", json=field_group_body(), headers=headers).json()
    body = schema_body()
    body["allOf"].append({"$ref": group["$id"]})
    schema = client.post(f"{SR}/tenant/schemas", json=body, headers=headers).json()
    group_url = f"{SR}/tenant/fieldgroups/{encoded(group['$id'])}"
    assert client.delete(group_url, headers=headers).status_code == 400
    assert (
        client.delete(f"{SR}/tenant/schemas/{schema['meta:altId']}", headers=headers).status_code
        == 204
    )
    assert client.delete(group_url, headers=headers).status_code == 204
    assert client.get(group_url, headers=with_accept(headers, XED)).status_code == 404


def test_sandboxes_are_separate(client: TestClient, headers: dict[str, str]) -> None:
    schema = create_schema(client, headers)
    dev = {**headers, "x-sandbox-name": "dev"}
    url = f"{SR}/tenant/schemas/{encoded(schema['$id'])}"
    assert client.get(url, headers=with_accept(dev, XED)).status_code == 404
    assert create_schema(client, dev)["title"] == schema["title"]


@pytest.mark.parametrize(
    ("orderby", "expected"), [("title", ["A", "B", "C"]), ("-title", ["C", "B", "A"])]
)
def test_paging_with_start(
    client: TestClient, headers: dict[str, str], orderby: str, expected: list[str]
) -> None:
    for title in ("B", "C", "A"):
        create_schema(client, headers, title=title)
    seen: list[str] = []
    params: dict[str, str] = {"orderby": orderby, "limit": "2"}
    for _ in range(3):
        page = client.get(
            f"{SR}/tenant/schemas", params=params, headers=with_accept(headers, XED_ID)
        ).json()
        seen += [r["title"] for r in page["results"]]
        if page["_page"]["next"] is None:
            assert page["_links"]["next"] is None
            break
        assert "start=" in page["_links"]["next"]["href"]
        params["start"] = page["_page"]["next"]
    assert seen == expected


def test_union_of_profile_schemas(client: TestClient, headers: dict[str, str]) -> None:
    create_schema(client, headers, title="Not in union", union=False)
    listed = client.get(f"{SR}/tenant/unions", headers=with_accept(headers, XED_ID)).json()
    assert listed["results"] == []
    body = schema_body()
    body["allOf"].append({"$ref": AUDIT})
    client.post(f"{SR}/tenant/schemas", json=body, headers=headers)
    listed = client.get(f"{SR}/tenant/unions", headers=with_accept(headers, XED_ID)).json()
    assert [r["meta:altId"] for r in listed["results"]] == ["_xdm.context.profile__union"]
    union = client.get(
        f"{SR}/tenant/unions/_xdm.context.profile__union", headers=with_accept(headers, XED_FULL)
    ).json()
    assert "extSourceSystemAudit" in union["properties"]


def test_project_tenant_field_group_is_accepted(
    client: TestClient, headers: dict[str, str]
) -> None:
    """The field group init creates (schemas/xdm/tenant) passes the registry's rules."""
    answer = client.post(
        f"{SR}/tenant/fieldgroups", json=tenant_field_group(TENANT), headers=headers
    )
    assert answer.status_code == 201, answer.text
    body = schema_body()
    body["allOf"] += [{"$ref": AUDIT}, {"$ref": answer.json()["$id"]}]
    schema = client.post(f"{SR}/tenant/schemas", json=body, headers=headers)
    assert schema.status_code == 201
    resolved = client.get(
        f"{SR}/tenant/schemas/{schema.json()['meta:altId']}",
        headers=with_accept(headers, XED_FULL),
    ).json()
    commerce = resolved["properties"][f"_{TENANT}"]["properties"]["commerce"]["properties"]
    assert commerce["websiteId"]["type"] == "integer"
