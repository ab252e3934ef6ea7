"""Decode rate of the Avro codecs on one core, for both wire formats.

    .venv/bin/python bench/decode_bench.py [--records N] [--seed S]

Records are realistic commerce events (0-3 addresses, several scripts, missing optional fields,
a share of deletes), encoded once; the loop times `EventDecoder.decode` alone with the process
CPU clock. The Confluent case serves its schemas from memory (the client caches them after the
first message, as it does against a real registry).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from schemas.avro import ConfluentRegistryClient, EventDecoder, EventEncoder, WriterSchemaRegistry

UTC = dt.UTC
NAMES = [
    ("Anna", "Schmidt", "DE", "Berlin", "+49 30 1234567"),
    ("Jürgen", "Weiß", "DE", "München", "089 998877"),
    ("Émilie", "Lefèvre", "FR", "Lyon", "+33 4 72 00 00 00"),
    ("花子", "山田", "JP", "東京", "03-1234-5678"),
    ("Олег", "Иванов", "UA", "Київ", "+380 44 123 4567"),
    ("María José", "García López", "ES", "Sevilla", "954 123 456"),
    ("John", "O'Neil", "US", "Austin", "(512) 555-0100"),
]


def _address(rng: random.Random, address_id: int) -> dict[str, Any]:
    first, last, country, city, phone = rng.choice(NAMES)
    return {
        "id": address_id,
        "firstname": first,
        "lastname": last,
        "middlename": None,
        "prefix": rng.choice([None, "Dr."]),
        "suffix": None,
        "company": rng.choice([None, None, "Acme GmbH"]),
        "street": [f"{rng.randint(1, 200)} Main Street"]
        + (["Apt 4"] if rng.random() < 0.3 else []),
        "city": city,
        "region": rng.choice([None, {"region": "Texas", "region_code": "TX", "region_id": 57}]),
        "postcode": f"{rng.randint(10000, 99999)}",
        "country_id": country,
        "telephone": phone,
        "fax": None,
        "vat_id": rng.choice([None, None, "DE123456789"]),
        "default_billing": False,
        "default_shipping": False,
    }


def _event(rng: random.Random, n: int) -> tuple[str, dict[str, Any]]:
    at = dt.datetime(2026, 11, 28, tzinfo=UTC) + dt.timedelta(seconds=n)
    envelope = {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "event_time": at,
        "source": "acme.production",
        "scope": {"website_code": "base", "store_code": "main", "store_view_code": "default"},
    }
    customer_id = 1000 + n
    if rng.random() < 0.1:
        return "CustomerDeleted", envelope | {
            "customer_id": customer_id,
            "email": f"c{customer_id}@example.com",
            "website_id": 1,
        }
    first, last, *_ = rng.choice(NAMES)
    addresses = [_address(rng, customer_id * 10 + i) for i in range(rng.choice([0, 1, 1, 2, 3]))]
    customer = {
        "id": customer_id,
        "email": f"c{customer_id}@example.com",
        "firstname": first,
        "lastname": last,
        "middlename": None,
        "prefix": None,
        "suffix": None,
        "dob": rng.choice([None, dt.date(1980 + n % 30, 1 + n % 12, 1 + n % 28)]),
        "gender": rng.choice([None, 1, 2, 3]),
        "taxvat": None,
        "website_id": 1,
        "store_id": 1,
        "group_id": 1,
        "created_at": at - dt.timedelta(days=30),
        "updated_at": at,
        "created_in": "Default Store View",
        "is_active": True,
        "default_billing": addresses[0]["id"] if addresses else None,
        "default_shipping": addresses[-1]["id"] if addresses else None,
        "addresses": addresses,
        "is_subscribed": rng.choice([None, True, False]),
        "custom_attributes": dict(
            rng.sample(
                [("loyalty_tier", "gold"), ("lang", "de_DE"), ("ref", "X1")], rng.randint(0, 3)
            )
        ),
    }
    return rng.choice(["CustomerCreated", "CustomerUpdated"]), envelope | {"customer": customer}


def _rate(decode: Callable[[bytes], object], values: list[bytes], rounds: int) -> float:
    for value in values[:100]:  # warm the plan caches
        decode(value)
    start = time.process_time()
    for _ in range(rounds):
        for value in values:
            decode(value)
    return len(values) * rounds / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    registry = WriterSchemaRegistry.load()
    encoder = EventEncoder(registry)
    schemas: dict[int, str] = {}

    def serve(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            schemas[len(schemas) + 1] = json.loads(request.content)["schema"]
            return httpx.Response(200, json={"id": len(schemas)})
        return httpx.Response(200, json={"schema": schemas[int(request.url.path.split("/")[-1])]})

    client = ConfluentRegistryClient("http://registry.bench", transport=httpx.MockTransport(serve))
    events = [_event(rng, n) for n in range(args.records)]
    single = [encoder.encode_single_object(t, d) for t, d in events]
    confluent = [encoder.encode_confluent(t, d, client) for t, d in events]
    # v1 has no is_subscribed: the writer ignores it, the decoder adds the reader's default.
    older = [
        encoder.encode_single_object(t, d, version=1) for t, d in events if t != "CustomerDeleted"
    ]
    decoder = EventDecoder(registry, client)
    mean_size = sum(map(len, single)) / len(single)
    print(f"{len(events)} records, mean single-object size {mean_size:.0f} bytes, one core")
    for label, values in (
        ("single-object (newest writer)", single),
        ("confluent (newest writer)", confluent),
        ("single-object (v1 writer, resolved)", older),
    ):
        rate = _rate(decoder.decode, values, args.rounds)
        print(f"{label:38s} {rate:10,.0f} records/s  {1e6 / rate:6.1f} µs/record")


if __name__ == "__main__":
    main()
