"""The resolver: XED field names, the parts each option contributes, the tenant field group."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from schemas.xdm import (
    DEMOGRAPHIC_DETAILS_ID,
    EXTERNAL_SOURCE_AUDIT_ID,
    IDENTITY_MAP_ID,
    PERSONAL_CONTACT_DETAILS_ID,
    PROFILE_CLASS_ID,
    TENANT_FIELD_GROUP_TITLE,
    USER_ACCOUNT_DETAILS_ID,
    XdmOptions,
    XdmResolutionError,
    field_group_ids,
    is_tenant_field_group_id,
    official_documents,
    resolve_schema,
    resolved_profile_schema,
    tenant_field_group,
    tenant_field_group_id,
)


def leaf_paths(node: dict[str, Any], prefix: str = "") -> Iterator[str]:
    if "properties" in node:
        for name, sub in node["properties"].items():
            yield from leaf_paths(sub, f"{prefix}.{name}" if prefix else name)
    elif isinstance(node.get("additionalProperties"), dict):
        yield from leaf_paths(node["additionalProperties"], prefix + ".<key>")
    elif node.get("type") == "array" and "properties" in node.get("items", {}):
        yield from leaf_paths(node["items"], prefix + "[]")
    else:
        yield prefix


def all_keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            yield key
            yield from all_keys(value)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                yield from all_keys(node[key])


def test_field_group_ids_follow_the_options() -> None:
    base = [
        PROFILE_CLASS_ID,
        IDENTITY_MAP_ID,
        DEMOGRAPHIC_DETAILS_ID,
        PERSONAL_CONTACT_DETAILS_ID,
        USER_ACCOUNT_DETAILS_ID,
    ]
    assert field_group_ids(XdmOptions(audit_field_group=False)) == base
    assert field_group_ids(XdmOptions()) == [*base, EXTERNAL_SOURCE_AUDIT_ID]
    with_tenant = field_group_ids(XdmOptions(tenant_fields=True, tenant_id="acme"))
    assert with_tenant == [*base, EXTERNAL_SOURCE_AUDIT_ID, tenant_field_group_id("acme")]
    assert is_tenant_field_group_id(with_tenant[-1])
    assert not any(is_tenant_field_group_id(schema_id) for schema_id in with_tenant[:-1])
    assert USER_ACCOUNT_DETAILS_ID == (
        "https://ns.adobe.com/xdm/mixins/profile/profile-user-account-details"
    )


def test_every_official_id_resolves_from_the_shipped_files() -> None:
    documents = official_documents()
    for schema_id in field_group_ids(XdmOptions()):
        assert schema_id in documents


@pytest.mark.parametrize(
    "kwargs",
    [{"tenant_fields": True}, {"tenant_id": "bad id"}, {"tenant_id": "_acme"}, {"tenant_id": ""}],
)
def test_bad_tenant_options_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="tenant"):
        XdmOptions(**kwargs)


def test_resolved_field_names_are_the_xed_form() -> None:
    schema = resolved_profile_schema(XdmOptions())
    paths = set(leaf_paths(schema))
    expected = {
        "_id",
        "personID",
        "_repo.createDate",
        "_repo.modifyDate",
        "createdByBatchID",
        "repositoryCreatedBy",
        "identityMap.<key>[].id",
        "identityMap.<key>[].authenticatedState",
        "identityMap.<key>[].primary",
        "person.name.firstName",
        "person.name.lastName",
        "person.birthDate",
        "person.gender",
        "person.taxId",
        "personalEmail.address",
        "homeAddress.street1",
        "billingAddress.countryCode",
        "billingAddress.stateProvince",
        "billingAddress._schema.latitude",
        "billingAddress._id",
        "billingAddress._repo.createDate",
        "shippingAddressPhone.number",
        "mobilePhone.countryCode",
        "userAccount.ID",
        "userAccount.startDate",
        "userAccount.productPreferences",
        "userAccount.contactDetails.personalEmail.address",
        "extSourceSystemAudit.lastUpdatedDate",
        "extSourceSystemAudit.externalKey.systemID",
    }
    assert expected <= paths
    keys = set(all_keys(schema))
    assert not {key for key in keys if ":" in key or key.startswith("@")}
    assert "workEmail" not in keys
    # Only the class and these groups: nothing from other parts of common.schema.json.
    assert "_repo.name" not in paths
    assert "_dc.format" not in paths


def test_properties_keep_their_raw_name_and_rules() -> None:
    schema = resolved_profile_schema(XdmOptions())
    person = schema["properties"]["person"]
    assert person["meta:xdmField"] == "xdm:person"
    birth_date = person["properties"]["birthDate"]
    assert birth_date == {**birth_date, "type": "string", "format": "date"}
    assert birth_date["meta:xdmField"] == "xdm:birthDate"
    assert person["properties"]["gender"]["enum"] == [
        "male",
        "female",
        "not_specified",
        "non_specific",
    ]
    assert schema["properties"]["_id"]["meta:xdmField"] == "@id"
    repo = schema["properties"]["_repo"]["properties"]
    assert repo["createDate"]["meta:xdmField"] == "repo:createDate"
    identity_map = schema["properties"]["identityMap"]
    assert identity_map["meta:xdmType"] == "map"
    assert "properties" not in identity_map
    item = identity_map["additionalProperties"]["items"]
    assert item["additionalProperties"] is False
    assert schema["additionalProperties"] is False
    assert person["properties"]["name"]["additionalProperties"] is False
    # meta:enum is kept as documentation, never turned into an enum.
    status = schema["properties"]["personalEmail"]["properties"]["status"]
    assert "meta:enum" in status
    assert "enum" not in status


def test_audit_and_tenant_parts_come_only_with_their_options() -> None:
    plain = resolved_profile_schema(XdmOptions(audit_field_group=False))
    assert "extSourceSystemAudit" not in plain["properties"]
    assert "_acme" not in plain["properties"]
    audited = resolved_profile_schema(XdmOptions())
    assert "extSourceSystemAudit" in audited["properties"]
    tenant = resolved_profile_schema(XdmOptions(tenant_fields=True, tenant_id="acme"))
    commerce = tenant["properties"]["_acme"]["properties"]["commerce"]
    assert set(commerce["properties"]) == {
        "websiteId",
        "websiteCode",
        "storeId",
        "storeCode",
        "storeViewCode",
        "groupId",
        "createdIn",
        "isSubscribed",
    }
    assert commerce["properties"]["websiteId"]["type"] == "integer"
    assert commerce["properties"]["isSubscribed"]["type"] == "boolean"
    assert commerce["additionalProperties"] is False


def test_resolved_schema_is_a_fresh_valid_json_schema() -> None:
    first = resolved_profile_schema(XdmOptions())
    first["properties"].clear()
    second = resolved_profile_schema(XdmOptions())
    assert "person" in second["properties"]
    jsonschema.Draft6Validator.check_schema(second)
    assert second["meta:extends"] == field_group_ids(XdmOptions())


def test_tenant_field_group_is_what_the_schema_registry_accepts() -> None:
    body = tenant_field_group("acme")
    assert body["title"] == TENANT_FIELD_GROUP_TITLE
    assert body["type"] == "object"
    assert body["meta:intendedToExtend"] == [PROFILE_CLASS_ID]
    assert "$id" not in body  # the registry assigns it
    (definition_name,) = body["definitions"]
    assert body["allOf"] == [{"$ref": f"#/definitions/{definition_name}"}]
    fields = body["definitions"][definition_name]["properties"]
    assert list(fields) == ["_acme"]  # custom fields only under the tenant object
    assert "{TENANT_ID}" not in json.dumps(body)
    jsonschema.Draft6Validator.check_schema(body)
    for name in fields["_acme"]["properties"]["commerce"]["properties"]:
        assert not name.startswith("_")


def test_unknown_ids_and_broken_refs_are_errors() -> None:
    with pytest.raises(XdmResolutionError):
        resolve_schema([PROFILE_CLASS_ID, "https://ns.adobe.com/xdm/context/nothing"])
    broken = {
        "https://example.com/broken": {
            "$id": "https://example.com/broken",
            "properties": {"xdm:x": {"$ref": "#/definitions/missing"}},
        }
    }
    with pytest.raises(XdmResolutionError):
        resolve_schema([PROFILE_CLASS_ID, "https://example.com/broken"], broken)
