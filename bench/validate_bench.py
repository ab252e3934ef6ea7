"""Validation rate of the compiled XDM validator, per core, on typical profile records.

Run: `.venv/bin/python bench/validate_bench.py [--seconds S]`. One process, one thread: the
figure is records per second per core.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from schemas.limits import entity_size
from schemas.xdm import XdmOptions, compile_validator


def typical_record(customer_id: int) -> dict[str, Any]:
    """A full Commerce profile: identities, name, birth date, e-mail, two addresses with phones,
    account, audit and tenant fields."""
    address = {
        "street1": f"{customer_id} Main Street",
        "street2": "Apt 4",
        "city": "Springfield",
        "postalCode": "62704",
        "state": "Illinois",
        "stateProvince": "US-IL",
        "country": "United States",
        "countryCode": "US",
        "primary": True,
    }
    phone = {"number": "+1 217 555 0100", "primary": True}
    return {
        "_id": f"{customer_id:064x}",
        "identityMap": {
            "CustomerId": [
                {"id": str(customer_id), "authenticatedState": "authenticated", "primary": True}
            ],
            "Email": [{"id": f"jane.doe.{customer_id}@example.com", "primary": False}],
        },
        "person": {
            "name": {
                "firstName": "Jane",
                "lastName": "Doe",
                "middleName": "Q",
                "courtesyTitle": "Ms",
            },
            "birthDate": "1985-02-28",
            "gender": "female",
            "taxId": "DE123456789",
        },
        "personalEmail": {"address": f"Jane.Doe.{customer_id}@example.com", "primary": True},
        "billingAddress": address,
        "billingAddressPhone": phone,
        "shippingAddress": {**address, "primary": False, "street1": "1 Depot Road"},
        "shippingAddressPhone": {**phone, "primary": False},
        "userAccount": {
            "ID": str(customer_id),
            "startDate": "2021-06-01T09:30:00Z",
            "status": "active",
            "accountType": "Retailer",
        },
        "extSourceSystemAudit": {
            "createdDate": "2021-06-01T09:30:00.000Z",
            "lastUpdatedDate": "2024-05-01T12:34:56.789Z",
            "externalID": str(customer_id),
        },
        "_acme": {
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    validator = compile_validator(XdmOptions(tenant_fields=True, tenant_id="acme"))
    records = [typical_record(n) for n in range(1, 1001)]
    if any(validator.validate(record) for record in records):
        raise SystemExit("the typical record does not validate; fix the benchmark")
    for record in records:  # warm-up
        validator.validate(record)
    count = 0
    started = time.process_time()
    deadline = started + args.seconds
    while time.process_time() < deadline:
        for record in records:
            validator.validate(record)
        count += len(records)
    elapsed = time.process_time() - started
    print(f"record size: {entity_size(records[0])} bytes of compact JSON")
    rate = count / elapsed
    print(f"validate: {rate:,.0f} records/s per core ({1e6 / rate:.1f} µs/record)")


if __name__ == "__main__":
    main()
