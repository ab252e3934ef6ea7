"""Names the contract fixes for the commerce customer events."""

from __future__ import annotations

from typing import Final

NAMESPACE: Final = "commerce.customer.v1"
DEFAULT_TOPIC: Final = "commerce.customer.v1"

# Short names, as the JSON form and the mapper spell them.
RECORD_TYPES: Final[tuple[str, ...]] = ("CustomerCreated", "CustomerUpdated", "CustomerDeleted")

_BY_FULL_NAME: Final[dict[str, str]] = {f"{NAMESPACE}.{name}": name for name in RECORD_TYPES}


def short_name(full_name: str) -> str | None:
    """The record type for a writer schema's full name, or None if the service does not know it."""
    return _BY_FULL_NAME.get(full_name)


def full_name(record_type: str) -> str:
    """`commerce.customer.v1.<Type>` for a short or full record type name; KeyError if unknown."""
    if record_type in _BY_FULL_NAME:
        return record_type
    qualified = f"{NAMESPACE}.{record_type}"
    if qualified not in _BY_FULL_NAME:
        raise KeyError(f"unknown record type: {record_type!r}")
    return qualified


def subject_name(topic: str, record_type: str) -> str:
    """Schema Registry subject under TopicRecordNameStrategy: `<topic>-<record full name>`."""
    return f"{topic}-{full_name(record_type)}"
