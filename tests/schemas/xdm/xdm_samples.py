"""Shared test data for the XDM tests: a full, valid profile record in XED field names."""

from __future__ import annotations

import copy
from typing import Any

TENANT = "acme"


def full_record() -> dict[str, Any]:
    """Every part the mapper writes: identities, person, e-mail, addresses, phones, account,
    audit and tenant fields (a fresh copy each call)."""
    address = {
        "street1": "1 Main Street",
        "city": "Springfield",
        "postalCode": "62704",
        "state": "Illinois",
        "stateProvince": "US-IL",
        "country": "United States",
        "countryCode": "US",
        "primary": True,
    }
    record = {
        "_id": "4f0c2a9e8b7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c",
        "identityMap": {
            "CustomerId": [{"id": "42", "authenticatedState": "authenticated", "primary": True}],
            "Email": [{"id": "jane.doe@example.com", "primary": False}],
        },
        "person": {
            "name": {"firstName": "Jane", "lastName": "Doe"},
            "birthDate": "1985-02-28",
            "gender": "female",
        },
        "personalEmail": {"address": "Jane.Doe@example.com", "primary": True},
        "billingAddress": address,
        "billingAddressPhone": {"number": "+1 217 555 0100", "primary": True},
        "shippingAddress": {**address, "primary": False},
        "shippingAddressPhone": {"number": "+1 217 555 0199", "countryCode": "1"},
        "userAccount": {"ID": "42", "startDate": "2021-06-01T09:30:00Z", "status": "active"},
        "extSourceSystemAudit": {
            "createdDate": "2021-06-01T09:30:00.000Z",
            "lastUpdatedDate": "2024-05-01T12:34:56.789Z",
        },
        f"_{TENANT}": {
            "commerce": {
                "websiteId": 1,
                "websiteCode": "base",
                "storeId": 1,
                "storeCode": "main_website_store",
                "storeViewCode": "default",
                "groupId": 1,
                "createdIn": "Default Store View",
                "isSubscribed": True,
            }
        },
    }
    return copy.deepcopy(record)
