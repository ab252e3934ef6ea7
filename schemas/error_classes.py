"""The one registry of error classes.

Every record that does not reach AEP ends in the dead-letter topic with one of these classes in
its `profile_sync.error.class` header; `profile-sync map` prints the same classes. Operators
search and count by them, so a class, once published, keeps its name and meaning. The README's
error table is checked against this registry by a test.

A class is `<stage>.<reason>`; the stage names the pipeline step that refused the record.
"""

from __future__ import annotations

from typing import Final, Literal

Stage = Literal["decode", "map", "validate", "deliver"]
STAGES: Final[tuple[Stage, ...]] = ("decode", "map", "validate", "deliver")

# class -> what it means for the operator (no personal data, ever).
ERROR_CLASSES: Final[dict[str, str]] = {
    # decode: the Kafka value is not a readable commerce event (schemas/avro/)
    "decode.empty_value": "the message value is absent or empty (e.g. a tombstone)",
    "decode.unknown_magic": "the value starts with neither 0x00 (Confluent) nor C3 01",
    "decode.truncated": "the value ends inside its header or before the record does",
    "decode.unknown_fingerprint": "no known writer schema has the single-object fingerprint",
    "decode.unknown_schema_id": "the Schema Registry does not know the Confluent schema id (404)",
    "decode.no_schema_registry": "a Confluent-framed value arrived but no Schema Registry is set",
    "decode.invalid_schema": (
        "the registry's schema for the id is not a usable Avro schema (not Avro, uses references, "
        "or has an array whose items take no bytes)"
    ),
    "decode.unknown_record_type": "the writer schema's record is not one of the contract's types",
    "decode.schema_mismatch": "the writer schema cannot be resolved against the reader schema",
    "decode.malformed_body": "the Avro body does not decode with its writer schema",
    # map: the event cannot become an XDM record (mappers/)
    "map.invalid_json": "a `profile-sync map` input line is not JSON of the contract's form",
    "map.invalid_event": "the event is not an object of the contract's record form",
    "map.unknown_record_type": "the record type is none of the contract's three types",
    "map.missing_field": "a field the contract requires is absent or null",
    "map.invalid_field": "a field has the wrong type or a value outside the contract",
    "map.invalid_timestamp": "a timestamp is not epoch milliseconds or ISO-8601 with a UTC offset",
    "map.invalid_date": "a date is not a calendar date YYYY-MM-DD",
    "map.invalid_email": "the customer's e-mail address fails AEP's e-mail format check",
    # validate: the mapped record would fail AEP's own checks (schemas/xdm/, schemas/limits.py)
    "validate.schema_violation": (
        "the XDM record breaks AEP's checks: type, enum, pattern, format, unknown/null/empty field"
    ),
    "validate.record_too_large": "the XDM record's compact JSON exceeds AEP's 100 KB record limit",
    # deliver: AEP refused the record or it could not be sent
    "deliver.aep_rejected": "AEP refused the record in its 207 answer with a 4xx status",
    "deliver.request_too_large": "a single record still exceeds AEP's 1 MB request limit",
}

# Counted outcomes: the record is delivered, but something in it was left out.
NOTE_CLASSES: Final[dict[str, str]] = {
    # map (mappers/)
    "map.country_code_dropped": "an address country is not two upper-case letters: no countryCode",
    "map.state_province_dropped": "a region code is no ISO 3166-2 subdivision: no stateProvince",
    "map.gender_unknown": "a gender option id is not in PROFILE_SYNC_GENDER_MAP: no gender",
    "map.default_address_not_found": "a default address id names no address of the customer",
}


def stage_of(error_class: str) -> Stage:
    """The stage part of a registered error class."""
    if error_class not in ERROR_CLASSES:
        raise KeyError(f"unregistered error class: {error_class}")
    stage = error_class.split(".", 1)[0]
    for known in STAGES:
        if known == stage:
            return known
    raise KeyError(f"error class with unknown stage: {error_class}")


def exception_class_name(error_class: str) -> str:
    """`__connect.errors.exception.class.name` for a class: `profile_sync.<Stage>Error`."""
    return f"profile_sync.{stage_of(error_class).capitalize()}Error"
