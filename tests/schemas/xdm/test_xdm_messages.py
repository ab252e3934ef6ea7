"""AEP's wording of violations (emulator only): values included, as AEP shows them."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.xdm import XdmOptions, aep_message, aep_pointer, compile_validator
from tests.schemas.xdm.xdm_samples import TENANT, full_record

VALIDATOR = compile_validator(XdmOptions(tenant_fields=True, tenant_id=TENANT))


def only_message(record: dict[str, Any]) -> tuple[str, str]:
    (violation,) = VALIDATOR.validate(record)
    return aep_pointer(violation), aep_message(violation, record)


def test_the_documented_examples() -> None:
    record = full_record()
    record["workEmail"] = {"address": "a@example.com"}
    assert only_message(record) == ("#", "extraneous key [workEmail] is not permitted")
    record = full_record()
    record["_id"] = 1234
    assert only_message(record) == ("#/_id", "expected type: String, found: Long")


@pytest.mark.parametrize(
    ("section", "field", "value", "pointer", "message"),
    [
        ("person", "gender", "f", "#/person/gender", "f is not a valid enum value"),
        (
            "person",
            "nationality",
            "de",
            "#/person/nationality",
            "string [de] does not match pattern ^[A-Z]{2}$",
        ),
        (
            "person",
            "birthDate",
            "2023-02-29",
            "#/person/birthDate",
            "[2023-02-29] is not a valid date. Expected [yyyy-MM-dd]",
        ),
        (
            "personalEmail",
            "address",
            "x@y.nosuchtld",
            "#/personalEmail/address",
            "[x@y.nosuchtld] is not a valid email address",
        ),
        ("person", "birthYear", 0, "#/person/birthYear", "0 is not greater or equal to 1"),
        ("person", "birthYear", 40000, "#/person/birthYear", "40000 is not less or equal to 32767"),
        ("person", "birthYear", 1.5, "#/person/birthYear", "expected type: Integer, found: Double"),
        ("person", "name", None, "#/person/name", "expected type: JSONObject, found: Null"),
        ("person", "name", {}, "#/person/name", "minimum size: [1], found: [0]"),
        (
            "personalEmail",
            "primary",
            "yes",
            "#/personalEmail/primary",
            "expected type: Boolean, found: String",
        ),
        (
            "billingAddress",
            "postOfficeBox",
            "x" * 25,
            "#/billingAddress/postOfficeBox",
            "expected maxLength: 20, actual: 25",
        ),
        ("billingAddress", "city", "", "#/billingAddress/city", "expected minLength: 1, actual: 0"),
        (
            "userAccount",
            "productPreferences",
            [],
            "#/userAccount/productPreferences",
            "expected minimum item count: 1, found: 0",
        ),
    ],
)
def test_messages_carry_values(
    section: str, field: str, value: Any, pointer: str, message: str
) -> None:
    record = full_record()
    record.setdefault(section, {})[field] = value
    assert only_message(record) == (pointer, message)


def test_date_time_message() -> None:
    record = full_record()
    record["userAccount"]["startDate"] = "2021-06-01"
    _, message = only_message(record)
    assert message.startswith("[2021-06-01] is not a valid date-time. Expected [")
