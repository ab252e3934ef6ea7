"""The batch body: byte concatenation equals serialising the equivalent document."""

from __future__ import annotations

import json
from typing import Any, Literal

import orjson
import pytest

from consumer.aep.envelope import CONTENT_TYPE, DELETE_EXTRA_BYTES, SOURCE_NAME, EnvelopeBuilder
from consumer.aep.protocol import OutgoingRecord

SCHEMA = "https://ns.adobe.com/tenant/schemas/0123abcd"
NOW_MS = 1_764_000_000_123


def builder(flow_id: str | None = "flow-1") -> EnvelopeBuilder:
    return EnvelopeBuilder(
        schema_id=SCHEMA,
        org_id="ORG@AdobeOrg",
        dataset_id="ds-1",
        flow_id=flow_id,
        clock_ms=lambda: NOW_MS,
    )


def record(entity: dict[str, Any], op: Literal["create", "delete"] = "create") -> OutgoingRecord:
    return OutgoingRecord(key=object(), entity_json=orjson.dumps(entity), operation=op)


def expected_message(
    entity: dict[str, Any], op: str, flow_id: str | None = "flow-1"
) -> dict[str, Any]:
    ref = {"id": SCHEMA, "contentType": CONTENT_TYPE}
    header: dict[str, Any] = {"schemaRef": ref, "imsOrgId": "ORG@AdobeOrg", "datasetId": "ds-1"}
    if flow_id is not None:
        header["flowId"] = flow_id
    header["source"] = {"name": SOURCE_NAME}
    header["createdAt"] = NOW_MS
    if op == "delete":
        header["operations"] = {"data": "delete"}
    return {"header": header, "body": {"xdmMeta": {"schemaRef": ref}, "xdmEntity": entity}}


def dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


ENTITIES: list[dict[str, Any]] = [
    {"_id": "1", "person": {"name": {"firstName": "Zoë", "lastName": "Ångström"}}},
    {"_id": "2", "identityMap": {"CustomerId": [{"id": "2", "primary": True}]}},
    {"_id": "3", "personalEmail": {"address": "李@example.cn"}, "n": 1.5, "list": [1, None]},
]


@pytest.mark.parametrize("flow_id", ["flow-1", None])
def test_body_is_the_json_of_the_equivalent_document(flow_id: str | None) -> None:
    env = builder(flow_id)
    ops: list[Literal["create", "delete"]] = ["create", "delete", "create"]
    records = [record(e, op) for e, op in zip(ENTITIES, ops, strict=True)]
    body = env.body(records)
    document = {
        "messages": [expected_message(e, op, flow_id) for e, op in zip(ENTITIES, ops, strict=True)]
    }
    assert body == dumps(document)
    assert orjson.loads(body) == document


def test_empty_batch() -> None:
    env = builder()
    assert env.body([]) == b'{"messages":[]}'
    assert env.request_size([]) == len(b'{"messages":[]}')


@pytest.mark.parametrize("count", [1, 2, 7])
def test_request_size_is_exact(count: int) -> None:
    env = builder()
    records = [record(ENTITIES[i % 3], "delete" if i % 2 else "create") for i in range(count)]
    body = env.body(records)
    assert env.request_size(records) == len(body)
    assert env.request_size([]) + sum(env.message_size(r) for r in records) - 1 == len(body)


def test_envelope_overhead_and_delete_extra_are_exact() -> None:
    env = builder()
    create = record(ENTITIES[0], "create")
    delete = record(ENTITIES[0], "delete")
    one_create = len(env.body([create])) - len(env.body([])) - len(create.entity_json)
    one_delete = len(env.body([delete])) - len(env.body([])) - len(delete.entity_json)
    assert env.envelope_overhead() == one_create
    assert one_delete - one_create == DELETE_EXTRA_BYTES == 31
    # Comma included: what a message adds to a non-empty batch.
    assert env.overhead("create") == one_create + 1
    assert env.overhead("delete") == one_delete + 1


def test_request_size_from_the_overhead_formula() -> None:
    env = builder()
    ops: list[Literal["create", "delete"]] = ["delete", "create", "create", "delete"]
    records = [record(ENTITIES[i % 3], op) for i, op in enumerate(ops)]
    formula = (
        env.request_size([])
        + sum(
            env.envelope_overhead()
            + len(r.entity_json)
            + (DELETE_EXTRA_BYTES if r.operation == "delete" else 0)
            for r in records
        )
        + len(records)
        - 1
    )
    assert formula == len(env.body(records))


def test_settings_values_are_escaped() -> None:
    env = EnvelopeBuilder(
        schema_id='odd"id', org_id="o\\rg", dataset_id="d", flow_id="f", clock_ms=lambda: NOW_MS
    )
    body = env.body([record({"_id": "x"})])
    message = orjson.loads(body)["messages"][0]
    assert message["header"]["schemaRef"]["id"] == 'odd"id'
    assert message["header"]["imsOrgId"] == "o\\rg"
    assert env.request_size([record({"_id": "x"})]) == len(body)
