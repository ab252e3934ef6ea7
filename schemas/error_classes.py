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

# The classes by name; every module that sets or compares a class uses these.
EMPTY_VALUE: Final = "decode.empty_value"
UNKNOWN_MAGIC: Final = "decode.unknown_magic"
TRUNCATED: Final = "decode.truncated"
UNKNOWN_FINGERPRINT: Final = "decode.unknown_fingerprint"
UNKNOWN_SCHEMA_ID: Final = "decode.unknown_schema_id"
NO_SCHEMA_REGISTRY: Final = "decode.no_schema_registry"
INVALID_SCHEMA: Final = "decode.invalid_schema"
DECODE_UNKNOWN_RECORD_TYPE: Final = "decode.unknown_record_type"
SCHEMA_MISMATCH: Final = "decode.schema_mismatch"
MALFORMED_BODY: Final = "decode.malformed_body"
INVALID_JSON: Final = "map.invalid_json"
INVALID_EVENT: Final = "map.invalid_event"
MAP_UNKNOWN_RECORD_TYPE: Final = "map.unknown_record_type"
MISSING_FIELD: Final = "map.missing_field"
INVALID_FIELD: Final = "map.invalid_field"
INVALID_TIMESTAMP: Final = "map.invalid_timestamp"
INVALID_DATE: Final = "map.invalid_date"
INVALID_EMAIL: Final = "map.invalid_email"
SCHEMA_VIOLATION: Final = "validate.schema_violation"
RECORD_TOO_LARGE: Final = "validate.record_too_large"
AEP_REJECTED: Final = "deliver.aep_rejected"
REQUEST_TOO_LARGE: Final = "deliver.request_too_large"
COUNTRY_CODE_DROPPED: Final = "map.country_code_dropped"
STATE_PROVINCE_DROPPED: Final = "map.state_province_dropped"
GENDER_UNKNOWN: Final = "map.gender_unknown"
DEFAULT_ADDRESS_NOT_FOUND: Final = "map.default_address_not_found"

# class -> what it means for the operator (no personal data, ever).
ERROR_CLASSES: Final[dict[str, str]] = {
    # decode: the Kafka value is not a readable commerce event (schemas/avro/)
    EMPTY_VALUE: "the message value is absent or empty (e.g. a tombstone)",
    UNKNOWN_MAGIC: "the value starts with neither 0x00 (Confluent) nor C3 01",
    TRUNCATED: "the value ends inside its header or before the record does",
    UNKNOWN_FINGERPRINT: "no known writer schema has the single-object fingerprint",
    UNKNOWN_SCHEMA_ID: "the Schema Registry does not know the Confluent schema id (404)",
    NO_SCHEMA_REGISTRY: "a Confluent-framed value arrived but no Schema Registry is set",
    INVALID_SCHEMA: (
        "the registry's schema for the id is not a usable Avro schema (not Avro, uses references, "
        "or has an array whose items take no bytes)"
    ),
    DECODE_UNKNOWN_RECORD_TYPE: "the writer schema's record is not one of the contract's types",
    SCHEMA_MISMATCH: "the writer schema cannot be resolved against the reader schema",
    MALFORMED_BODY: "the Avro body does not decode with its writer schema",
    # map: the event cannot become an XDM record (mappers/)
    INVALID_JSON: "a `profile-sync map` input line is not JSON of the contract's form",
    INVALID_EVENT: "the event is not an object of the contract's record form",
    MAP_UNKNOWN_RECORD_TYPE: "the record type is none of the contract's three types",
    MISSING_FIELD: "a field the contract requires is absent or null",
    INVALID_FIELD: "a field has the wrong type or a value outside the contract",
    INVALID_TIMESTAMP: "a timestamp is not epoch milliseconds or ISO-8601 with a UTC offset",
    INVALID_DATE: "a date is not a calendar date YYYY-MM-DD",
    INVALID_EMAIL: "the customer's e-mail address fails AEP's e-mail format check",
    # validate: the mapped record would fail AEP's own checks (schemas/xdm/, schemas/limits.py)
    SCHEMA_VIOLATION: (
        "the XDM record breaks AEP's checks: type, enum, pattern, format, unknown/null/empty field"
    ),
    RECORD_TOO_LARGE: "the XDM record's compact JSON exceeds AEP's 100 KB record limit",
    # deliver: AEP refused the record or it could not be sent
    AEP_REJECTED: "AEP refused the record in its 207 answer with a 4xx status",
    REQUEST_TOO_LARGE: "a single record still exceeds AEP's 1 MB request limit",
}

# Counted outcomes: the record is delivered, but something in it was left out.
NOTE_CLASSES: Final[dict[str, str]] = {
    # map (mappers/)
    COUNTRY_CODE_DROPPED: "an address country is not two upper-case letters: no countryCode",
    STATE_PROVINCE_DROPPED: "a region code is no ISO 3166-2 subdivision: no stateProvince",
    GENDER_UNKNOWN: "a gender option id is not in PROFILE_SYNC_GENDER_MAP: no gender",
    DEFAULT_ADDRESS_NOT_FOUND: "a default address id names no address of the customer",
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
