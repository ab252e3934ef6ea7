"""The real Schema Registry through its Confluent-compatible API, as the service uses it."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from devenv.schema_registry import Registry

pytestmark = pytest.mark.integration

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


def avro_schema(name: str, field: str) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": name,
            "namespace": "com.example.test",
            "fields": [{"name": field, "type": "string"}],
        }
    )


def register(url: str, subject: str, schema: str) -> httpx.Response:
    return httpx.post(
        f"{url}/subjects/{subject}/versions",
        content=json.dumps({"schema": schema}),
        headers={"Content-Type": CONTENT_TYPE},
        timeout=10,
    )


def test_a_registered_schema_reads_back_by_id(schema_registry: Registry) -> None:
    # TopicRecordNameStrategy subject: <topic>-<record full name>
    subject = f"topic-{uuid.uuid4().hex[:8]}-com.example.test.Created"
    schema = avro_schema("Created", f"f{uuid.uuid4().hex[:8]}")

    created = register(schema_registry.url, subject, schema)
    assert created.status_code == 200, created.text
    schema_id = created.json()["id"]
    assert isinstance(schema_id, int)

    fetched = httpx.get(f"{schema_registry.url}/schemas/ids/{schema_id}", timeout=10)
    assert fetched.status_code == 200, fetched.text
    assert json.loads(fetched.json()["schema"]) == json.loads(schema)

    again = register(schema_registry.url, subject, schema)
    assert again.json()["id"] == schema_id
    # ids name contents, as in Confluent's registry: another subject reuses the id
    other = register(schema_registry.url, f"other-{subject}", schema)
    assert other.json()["id"] == schema_id


def test_different_schemas_get_different_ids(schema_registry: Registry) -> None:
    subject = f"topic-{uuid.uuid4().hex[:8]}-com.example.test.Changed"
    first = register(schema_registry.url, subject, avro_schema("Changed", "a")).json()["id"]
    second = register(schema_registry.url, subject, avro_schema("Changed", "b")).json()["id"]
    assert first != second


def test_an_unknown_id_is_a_404(schema_registry: Registry) -> None:
    response = httpx.get(f"{schema_registry.url}/schemas/ids/987654321", timeout=10)
    assert response.status_code == 404
    assert response.json()["error_code"] == 40403
