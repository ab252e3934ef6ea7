"""Batches sized by the batch step, measured with the real envelope: no request body is ever
above AEP's 1 MB, whatever mix of small and near-limit records arrives."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import cast

import orjson

from consumer.aep.envelope import EnvelopeBuilder
from consumer.aep.protocol import Accepted, BatchResult, OutgoingRecord, SendResult
from schemas.limits import RECORD_LIMIT, REQUEST_LIMIT
from tests.consumer.pipeline.delivery_harness import delivery
from tests.consumer.pipeline.fakes import ScriptedSender, make_record

ENVELOPE = EnvelopeBuilder(
    schema_id="https://ns.adobe.com/acme/schemas/" + "a" * 40,
    org_id="ABCDEF0123456789@AdobeOrg",
    dataset_id="6543210fedcba",
    flow_id="d2d3e0f3-7b3c-4b7e-9f55-5f3f6b1b1b1b",
)


class EnvelopeSender:
    """Accepts everything; records the size of each body as the real envelope builds it."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    async def send(self, records: Sequence[OutgoingRecord]) -> SendResult:
        self.sizes.append(len(ENVELOPE.body(records)))
        return BatchResult([Accepted(r.key, "x") for r in records])

    def request_size(self, records: Sequence[OutgoingRecord]) -> int:
        return ENVELOPE.request_size(records)

    def envelope_overhead(self) -> int:
        return ENVELOPE.envelope_overhead()


def test_no_request_body_exceeds_the_limit() -> None:
    rng = random.Random(1)
    sender = EnvelopeSender()
    # The harness calls only the InletSender protocol on the sender it is given.
    # A long linger: batches close on the size bound, which is what this test is about.
    with delivery(
        cast(ScriptedSender, sender), max_records=500, max_in_flight=8, linger_s=3600
    ) as d:
        for i in range(1500):
            size = rng.choice([rng.randrange(10, 2000), rng.randrange(90_000, RECORD_LIMIT + 1)])
            entity = orjson.dumps({"p": "x" * max(0, size - 8)})
            assert len(entity) <= RECORD_LIMIT
            operation = rng.choice(["create", "delete"])
            d.batch.submit(make_record(i, customer=i, entity=entity, operation=operation))
            d.batch.poll()
        d.drain(30)
    assert len(d.accounted.records) == 1500
    assert max(sender.sizes) <= REQUEST_LIMIT
    assert max(sender.sizes) > REQUEST_LIMIT - RECORD_LIMIT  # some requests were nearly full
