"""The compiled validator: what it refuses, where it points, and that it never holds values."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from schemas.xdm import Validator, Violation, XdmOptions, compile_validator
from tests.schemas.xdm.xdm_samples import TENANT, full_record

OPTIONS = XdmOptions(tenant_fields=True, tenant_id=TENANT)
Mutation = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def validator() -> Validator:
    return compile_validator(OPTIONS)


def pairs(violations: list[Violation]) -> set[tuple[str, str]]:
    return {(violation.pointer, violation.keyword) for violation in violations}


def test_full_record_is_valid(validator: Validator) -> None:
    assert validator.validate(full_record()) == []


def test_compiled_once_per_options() -> None:
    assert compile_validator(OPTIONS) is compile_validator(XdmOptions(True, True, TENANT))


def _set(path: str, value: Any) -> Mutation:
    *parents, last = path.split(".")

    def mutate(record: dict[str, Any]) -> None:
        node: Any = record
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


@pytest.mark.parametrize(
    ("mutation", "pointer", "keyword"),
    [
        # unknown fields, at the top and nested
        (_set("workEmail", {"address": "a@example.com"}), "/workEmail", "additionalProperties"),
        (_set("person.name.nickName", "J"), "/person/name/nickName", "additionalProperties"),
        (_set("_acme.commerce.extra", 1), "/_acme/commerce/extra", "additionalProperties"),
        (_set("_other", {"x": 1}), "/_other", "additionalProperties"),
        (_set("xdm:person", {}), "/xdm:person", "additionalProperties"),
        # wrong types
        (_set("_id", 5), "/_id", "type"),
        (_set("person.name.firstName", 12), "/person/name/firstName", "type"),
        (_set("personalEmail.primary", "true"), "/personalEmail/primary", "type"),
        (_set("_acme.commerce.websiteId", "1"), "/_acme/commerce/websiteId", "type"),
        (_set("_acme.commerce.websiteId", True), "/_acme/commerce/websiteId", "type"),
        (_set("_acme.commerce.websiteId", 1.0), "/_acme/commerce/websiteId", "type"),
        (_set("billingAddress.dmaID", 2**63), "/billingAddress/dmaID", "type"),
        (
            _set("billingAddress._schema", {"latitude": "1"}),
            "/billingAddress/_schema/latitude",
            "type",
        ),
        (_set("person", "Jane"), "/person", "type"),
        (_set("identityMap.CustomerId", {"id": "1"}), "/identityMap/CustomerId", "type"),
        (_set("identityMap.CustomerId.0", "42"), "/identityMap/CustomerId/0", "type"),
        (_set("userAccount.productPreferences", "x"), "/userAccount/productPreferences", "type"),
        # null values
        (_set("person.name.lastName", None), "/person/name/lastName", "type"),
        (_set("billingAddress", None), "/billingAddress", "type"),
        (_set("identityMap.Email", None), "/identityMap/Email", "type"),
        (_set("identityMap.Email.0.primary", None), "/identityMap/Email/0/primary", "type"),
        # empty values
        (_set("person.name.lastName", ""), "/person/name/lastName", "minLength"),
        (_set("person.name", {}), "/person/name", "minProperties"),
        (_set("identityMap", {}), "/identityMap", "minProperties"),
        (_set("identityMap.Email", []), "/identityMap/Email", "minItems"),
        (_set("userAccount.productPreferences", []), "/userAccount/productPreferences", "minItems"),
        (_set("personalEmail.address", ""), "/personalEmail/address", "minLength"),
        # enums, patterns, lengths, ranges
        (_set("person.gender", "f"), "/person/gender", "enum"),
        (_set("userAccount.status", "Active"), "/userAccount/status", "enum"),
        (
            _set("identityMap.CustomerId.0.authenticatedState", "yes"),
            "/identityMap/CustomerId/0/authenticatedState",
            "enum",
        ),
        (_set("billingAddress.countryCode", "usa"), "/billingAddress/countryCode", "pattern"),
        (_set("person.nationality", "D"), "/person/nationality", "pattern"),
        (_set("person.birthDayAndMonth", "5-1"), "/person/birthDayAndMonth", "pattern"),
        (
            _set("shippingAddressPhone.countryCode", "+1"),
            "/shippingAddressPhone/countryCode",
            "pattern",
        ),
        (
            _set("shippingAddressPhone.countryCode", "1234"),
            "/shippingAddressPhone/countryCode",
            "maxLength",
        ),
        (
            _set("billingAddress.postOfficeBox", "x" * 21),
            "/billingAddress/postOfficeBox",
            "maxLength",
        ),
        (_set("person.birthYear", 0), "/person/birthYear", "minimum"),
        (_set("person.birthYear", 32768), "/person/birthYear", "maximum"),
        (
            _set("billingAddress._schema", {"latitude": 90.5}),
            "/billingAddress/_schema/latitude",
            "maximum",
        ),
        # formats
        (
            _set("personalEmail.address", "jane@example.nosuchtld"),
            "/personalEmail/address",
            "format",
        ),
        (_set("person.birthDate", "2023-02-29"), "/person/birthDate", "format"),
        (_set("person.birthDate", "28.02.1985"), "/person/birthDate", "format"),
        (_set("userAccount.startDate", "2021-06-01T09:30Z"), "/userAccount/startDate", "format"),
        (
            _set("extSourceSystemAudit.lastUpdatedDate", "2024-05-01T12:34:56.789"),
            "/extSourceSystemAudit/lastUpdatedDate",
            "format",
        ),
        (_set("_id", "not a uri"), "/_id", "format"),
    ],
)
def test_each_rule_is_refused_at_its_pointer(
    validator: Validator, mutation: Mutation, pointer: str, keyword: str
) -> None:
    record = full_record()
    mutation(record)
    violations = validator.validate(record)
    assert (pointer, keyword) in pairs(violations)
    assert {violation.pointer for violation in violations} == {pointer}


def test_meta_enum_is_not_enforced(validator: Validator) -> None:
    record = full_record()
    record["personalEmail"]["type"] = "any free text"
    record["billingAddress"]["status"] = "whatever"
    assert validator.validate(record) == []


def test_unanchored_patterns_behave_as_json_schema(validator: Validator) -> None:
    record = full_record()
    record["person"]["birthDayAndMonth"] = "x12-31x"  # JSON Schema patterns search
    record["billingAddress"]["stateProvince"] = "anything"  # matches the empty alternative
    assert validator.validate(record) == []


def test_map_keys_are_escaped_in_pointers(validator: Validator) -> None:
    record = full_record()
    record["identityMap"]["a/b~c"] = [{"id": None}]
    assert pairs(validator.validate(record)) == {("/identityMap/a~1b~0c/0/id", "type")}


def test_every_violation_is_reported(validator: Validator) -> None:
    record = full_record()
    record["person"]["gender"] = "f"
    record["person"]["birthDate"] = "1985-13-01"
    record["unknown"] = 1
    del record["personalEmail"]
    assert pairs(validator.validate(record)) == {
        ("/person/gender", "enum"),
        ("/person/birthDate", "format"),
        ("/unknown", "additionalProperties"),
    }


def test_non_objects_are_refused_at_the_root(validator: Validator) -> None:
    assert pairs(validator.validate([])) == {("", "type")}
    assert pairs(validator.validate(None)) == {("", "type")}
    assert pairs(validator.validate({})) == {("", "minProperties")}


def test_tenant_fields_need_their_option() -> None:
    without_tenant = compile_validator(XdmOptions())
    assert pairs(without_tenant.validate(full_record())) == {
        (f"/_{TENANT}", "additionalProperties")
    }
    no_audit = compile_validator(
        XdmOptions(audit_field_group=False, tenant_fields=True, tenant_id=TENANT)
    )
    assert pairs(no_audit.validate(full_record())) == {
        ("/extSourceSystemAudit", "additionalProperties")
    }


def test_violations_never_hold_values(validator: Validator) -> None:
    secret = "Zq7secretvalue"
    record = full_record()
    record["person"]["gender"] = secret
    record["personalEmail"]["address"] = f"{secret}@nowhere.nosuchtld"
    record["person"]["nationality"] = secret
    record["person"]["birthDate"] = secret
    record["person"]["name"]["firstName"] = 7
    record["_acme"]["commerce"]["groupId"] = secret
    violations = validator.validate(record)
    assert len(violations) == 6
    for violation in violations:
        assert secret not in repr(violation)
        assert "7" not in violation.rule


def test_validate_leaves_the_record_alone(validator: Validator) -> None:
    record = full_record()
    record["person"]["gender"] = "f"
    before = copy.deepcopy(record)
    validator.validate(record)
    assert record == before
