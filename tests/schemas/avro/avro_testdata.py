"""Test data of the Avro codec tests: golden vectors, paths, a fake Schema Registry API."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastavro import json_reader

from schemas.avro import ConfluentRegistryClient, WriterSchemaRegistry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
VECTORS = FIXTURES / "avro_golden" / "vectors"
NEWER_DIR = FIXTURES / "avro_evolution" / "newer"
SHIPPED = Path(__file__).resolve().parents[3] / "schemas" / "avro" / "commerce.customer.v1"


@dataclass(frozen=True)
class GoldenVector:
    name: str  # <Type>.v<N>.<sample>
    record_type: str
    version: int
    datum: dict[str, Any]  # as fastavro reads Avro's JSON encoding: datetimes, dates
    value: bytes  # what Java's BinaryMessageEncoder wrote


def _vectors() -> list[GoldenVector]:
    registry = WriterSchemaRegistry.load()
    found = []
    for path in sorted(VECTORS.glob("Customer*.json")):
        name = path.name.removesuffix(".json")
        record_type, version, _sample = name.split(".")
        schema = registry.shipped(record_type, int(version[1:]))
        one_line = json.dumps(json.loads(path.read_text(encoding="utf-8")))
        (datum,) = list(json_reader(io.StringIO(one_line), schema.parsed))
        assert isinstance(datum, dict)
        value = bytes.fromhex(path.with_suffix(".hex").read_text().strip())
        found.append(GoldenVector(name, record_type, int(version[1:]), datum, value))
    return found


GOLDEN_VECTORS = _vectors()


def golden(name: str) -> GoldenVector:
    return next(v for v in GOLDEN_VECTORS if v.name == name)


@dataclass
class FakeRegistryApi:
    """The two Confluent API calls the client makes, served from memory through MockTransport.
    `fail_with` makes every request answer that status; `calls` counts requests."""

    schemas: dict[int, str] = field(default_factory=dict)
    subjects: dict[str, list[int]] = field(default_factory=dict)
    fail_with: int | None = None
    calls: int = 0
    extra: dict[int, dict[str, Any]] = field(default_factory=dict)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.fail_with is not None:
            return httpx.Response(self.fail_with, json={"error_code": self.fail_with})
        path = request.url.path
        if m := re.fullmatch(r".*/schemas/ids/(\d+)", path):
            schema_id = int(m[1])
            if schema_id not in self.schemas:
                return httpx.Response(404, json={"error_code": 40403, "message": "not found"})
            return httpx.Response(
                200, json={"schema": self.schemas[schema_id], **self.extra.get(schema_id, {})}
            )
        if (m := re.fullmatch(r".*/subjects/([^/]+)/versions", path)) and request.method == "POST":
            schema = json.loads(request.content)["schema"]
            schema_id = self.add(schema)
            self.subjects.setdefault(m[1], []).append(schema_id)
            return httpx.Response(200, json={"id": schema_id})
        return httpx.Response(404, json={"error_code": 404, "message": "no such route"})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def add(self, schema: str) -> int:
        for schema_id, known in self.schemas.items():
            if known == schema:
                return schema_id
        schema_id = len(self.schemas) + 1
        self.schemas[schema_id] = schema
        return schema_id


def client_with(handler: Callable[[httpx.Request], httpx.Response]) -> ConfluentRegistryClient:
    return ConfluentRegistryClient("http://registry.test", transport=httpx.MockTransport(handler))


def shipped_schema(name: str) -> dict[str, Any]:
    path = SHIPPED / f"{name}.avsc"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def retyped_customer_id() -> dict[str, Any]:
    """CustomerUpdated whose `customer.id` is a string: no reader can resolve it."""
    schema = shipped_schema("CustomerUpdated.v2")
    schema["doc"] = "test fixture: incompatible with the reader"
    customer = next(f for f in schema["fields"] if f["name"] == "customer")["type"]
    customer["fields"][0]["type"] = "string"
    return schema
