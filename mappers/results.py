"""What `Mapper.map` returns: an upsert, a delete, or a failure (never an exception)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# (primary, secondary) milliseconds; the consumer appends the Kafka offset (docs/DESIGN.md §6).
OrderingKey = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Upsert:
    """A whole-customer snapshot to send as an XDM record.

    `notes`: counted outcomes (`map.*` names of `schemas.error_classes.NOTE_CLASSES`), one entry
    per occurrence, for parts of the customer that were left out.
    """

    customer_id: int
    record: dict[str, Any]
    ordering_key: OrderingKey
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Delete:
    """A Data Prep delete of the customer's `CustomerId` identity."""

    customer_id: int
    record: dict[str, Any]
    ordering_key: OrderingKey


@dataclass(frozen=True, slots=True)
class MapFailure:
    """A refused event. `message` and `fields` (dotted input paths) never hold input values."""

    error_class: str
    message: str
    fields: tuple[str, ...]
    customer_id: int | None = None


MapResult = Upsert | Delete | MapFailure
