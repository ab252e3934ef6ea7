"""Batch body build rate of the AEP envelope (byte concatenation), per core.

Run: `.venv/bin/python bench/envelope_bench.py [--seconds S] [--batch N]`. One thread; times
`EnvelopeBuilder.body` and `request_size` on batches of typical pre-serialised profile records
(10 % deletes), and, for comparison, serialising the equivalent document with orjson.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import orjson

from consumer.aep.envelope import CONTENT_TYPE, SOURCE_NAME, EnvelopeBuilder
from consumer.aep.protocol import OutgoingRecord

SCHEMA = "https://ns.adobe.com/tenant/schemas/0123456789abcdef0123456789abcdef"


def typical_entity(customer_id: int) -> dict[str, Any]:
    address = {
        "street1": f"{customer_id} Main Street",
        "city": "Springfield",
        "postalCode": "62704",
        "stateProvince": "US-IL",
        "country": "United States",
        "countryCode": "US",
        "primary": True,
    }
    return {
        "_id": f"{customer_id:064x}",
        "identityMap": {
            "CustomerId": [
                {"id": str(customer_id), "authenticatedState": "authenticated", "primary": True}
            ],
            "Email": [{"id": f"user{customer_id}@example.com", "primary": False}],
        },
        "person": {"name": {"firstName": "Jürgen", "lastName": "Weiß"}, "birthDate": "1980-02-29"},
        "personalEmail": {"address": f"user{customer_id}@example.com", "primary": True},
        "billingAddress": address,
        "shippingAddress": address,
        "mobilePhone": {"number": "+1 217 555 0100", "primary": True},
        "userAccount": {"ID": str(customer_id), "startDate": "2020-01-01T00:00:00.000Z"},
        "extSourceSystemAudit": {"lastUpdatedDate": "2024-05-01T10:00:00.000Z"},
    }


def records(count: int) -> list[OutgoingRecord]:
    out = []
    for i in range(count):
        delete = i % 10 == 9
        entity = typical_entity(i)
        if delete:
            entity = {"_id": entity["_id"], "identityMap": entity["identityMap"]}
        out.append(
            OutgoingRecord(
                key=i, entity_json=orjson.dumps(entity), operation="delete" if delete else "create"
            )
        )
    return out


def rate(seconds: float, work: Callable[[], object]) -> float:
    """Calls per CPU second."""
    calls = 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        for _ in range(10):
            work()
        calls += 10
    return calls / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    env = EnvelopeBuilder(schema_id=SCHEMA, org_id="ORG@AdobeOrg", dataset_id="d" * 24, flow_id="f")
    batch = records(args.batch)
    body = env.body(batch)
    assert env.request_size(batch) == len(body)
    entities = [orjson.loads(r.entity_json) for r in batch]
    ref = {"id": SCHEMA, "contentType": CONTENT_TYPE}

    def serialise() -> bytes:
        # What a naive client does: rebuild the document and serialise everything again.
        messages = []
        for record, entity in zip(batch, entities, strict=True):
            header: dict[str, Any] = {
                "schemaRef": ref,
                "imsOrgId": "ORG@AdobeOrg",
                "datasetId": "d" * 24,
                "flowId": "f",
                "source": {"name": SOURCE_NAME},
                "createdAt": 0,
            }
            if record.operation == "delete":
                header["operations"] = {"data": "delete"}
            messages.append(
                {"header": header, "body": {"xdmMeta": {"schemaRef": ref}, "xdmEntity": entity}}
            )
        return orjson.dumps({"messages": messages})

    build = rate(args.seconds, lambda: env.body(batch))
    size = rate(args.seconds, lambda: env.request_size(batch))
    naive = rate(args.seconds, serialise)
    print(f"batch: {args.batch} records, body {len(body):,} bytes")
    print(
        f"envelope body build: {build:,.0f} batches/s = {build * args.batch:,.0f} records/s "
        f"= {build * len(body) / 1e6:,.0f} MB/s per core "
        f"({1e6 / (build * args.batch):.2f} us/record)"
    )
    print(f"request_size: {size * args.batch:,.0f} records/s per core")
    print(f"re-serialising with orjson (for comparison): {naive * args.batch:,.0f} records/s")


if __name__ == "__main__":
    main()
