"""Builders of contract events (JSON form) for the mapper tests."""

from __future__ import annotations

import copy
from typing import Any

EVENT_ID = "3f1c9a52-7d4e-4b8a-9c21-6e0f5d7a8b90"


def address(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 7,
        "firstname": "Avery",
        "lastname": "Hollis",
        "street": ["12 Maple Avenue", "Suite 4"],
        "city": "Springfield",
        "region": {"region": "California", "region_code": "CA", "region_id": 12},
        "postcode": "90001",
        "country_id": "US",
        "telephone": "+1 555-0100",
        "default_billing": True,
        "default_shipping": False,
    }
    base.update(overrides)
    return base


def customer(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 42,
        "email": "avery.hollis@example.com",
        "firstname": "Avery",
        "lastname": "Hollis",
        "website_id": 1,
        "store_id": 1,
        "group_id": 1,
        "created_at": "2026-01-05T08:00:00Z",
        "updated_at": "2026-11-28T10:15:00.250Z",
        "is_active": True,
        "default_billing": None,
        "default_shipping": None,
        "addresses": [],
    }
    base.update(overrides)
    return base


def upsert_event(customer_data: dict[str, Any] | None = None, **envelope: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": EVENT_ID,
        "event_time": "2026-11-28T10:15:01Z",
        "source": "acme.production",
        "scope": {"website_code": "base", "store_code": "main", "store_view_code": "default"},
        "customer": customer_data if customer_data is not None else customer(),
    }
    event.update(envelope)
    return copy.deepcopy(event)


def delete_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": EVENT_ID,
        "event_time": 1764324901000,
        "source": "acme.production",
        "scope": {"website_code": "base"},
        "customer_id": 42,
        "email": "avery.hollis@example.com",
        "website_id": 1,
    }
    event.update(overrides)
    return event
