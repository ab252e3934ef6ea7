"""Mask the personal data of a decoded commerce event for `dlq show`.

An allow-list, not a deny-list: only fields known to hold no personal data (ids, times, store
scope, flags) are shown as they are; every other value is masked, so a field added to the
contract later is hidden until someone decides it is not personal. Masks keep just enough to
recognise a value: `j***@e***.com` for an e-mail, `M***` for a name, `***` for anything else.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

MASK: Final = "***"

# Dotted paths in the event (list items share their list's path) shown unmasked.
VISIBLE: Final = frozenset(
    {
        "event_id",
        "event_time",
        "source",
        "scope",
        "scope.website_code",
        "scope.store_code",
        "scope.store_view_code",
        "customer_id",
        "website_id",
        "customer.id",
        "customer.website_id",
        "customer.store_id",
        "customer.group_id",
        "customer.created_at",
        "customer.updated_at",
        "customer.created_in",
        "customer.is_active",
        "customer.default_billing",
        "customer.default_shipping",
        "customer.is_subscribed",
        "customer.addresses.id",
        "customer.addresses.default_billing",
        "customer.addresses.default_shipping",
    }
)


def mask_email(value: str) -> str:
    """`john.doe@example.com` -> `j***@e***.com`; a value without `@` is masked as text."""
    local, at, domain = value.strip().rpartition("@")
    if not at:
        return mask_text(value)
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{_first(host)}{MASK}.{tld}" if dot and host else f"{_first(domain)}{MASK}"
    return f"{_first(local)}{MASK}@{masked_domain}"


def mask_text(value: str) -> str:
    """`Maria` -> `M***`; one character or less -> `***` (the first would be all of it)."""
    stripped = value.strip()
    return f"{stripped[0]}{MASK}" if len(stripped) > 1 else MASK


def _first(text: str) -> str:
    return text[:1] if len(text) > 1 else ""


def mask_value(value: Any) -> Any:
    """Mask one personal value of any type (lists and maps item by item, keeping map keys)."""
    if value is None:
        return None
    if isinstance(value, str):
        return mask_email(value) if "@" in value else mask_text(value)
    if isinstance(value, list | tuple):
        return [mask_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): mask_value(v) for k, v in value.items()}
    return MASK


def mask_event(datum: dict[str, Any], path: str = "") -> dict[str, Any]:
    """A copy of a decoded event with every value outside :data:`VISIBLE` masked."""
    return {str(name): _mask_at(value, _join(path, str(name))) for name, value in datum.items()}


def _mask_at(value: Any, path: str) -> Any:
    if isinstance(value, dict):
        if path not in VISIBLE and not any(v.startswith(path + ".") for v in VISIBLE):
            return mask_value(value)
        return mask_event(value, path)
    if isinstance(value, list):
        return [_mask_at(item, path) for item in value]
    if path in VISIBLE:
        return value
    return mask_value(value)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def plain(value: Any) -> Any:
    """JSON-ready: dates and times as ISO-8601, bytes as hex."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value
