"""A small client of the Confluent Schema Registry API (also served by Apicurio's ccompat API).

Only the two calls the service needs: fetch a schema by id (decode) and register a schema under
a subject (encode). Answers are cached for the life of the client: an id's schema never changes.

Not `confluent_kafka.schema_registry.SchemaRegistryClient`: it would cover the caching and the
40403 error code, but its `schemaregistry` extra brings a second HTTP stack (`httpx2`) and
`authlib`, `attrs` and `cachetools` into the runtime image, and its built-in retries sleep on the
calling thread, here the Kafka poll thread, where a registry outage must pause the partition
instead (`schemas.avro.errors.TransientDecodeError`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

import httpx

from schemas.avro.errors import (
    SchemaNotFoundError,
    SchemaRegistryError,
    SchemaRegistryUnavailableError,
)

_CONTENT_TYPE: Final = "application/vnd.schemaregistry.v1+json"
# Answers that mean "try again later", never "this record is bad".
_TRANSIENT_STATUSES: Final = frozenset({408, 425, 429})
# The API's "schema not found": a plain 404 (wrong base URL, a proxy) is a configuration fault,
# never a reason to dead-letter every record.
_NOT_FOUND: Final = 40403


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    schema_id: int
    schema: str
    schema_type: str
    has_references: bool


class ConfluentRegistryClient:
    """Synchronous, thread-safe. `timeout_s` bounds each request (connect and read)."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 5.0,
        auth: tuple[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self._http = httpx.Client(
            base_url=url,
            timeout=timeout_s,
            auth=auth,
            transport=transport,
            headers={"Accept": _CONTENT_TYPE},
        )
        self._by_id: dict[int, RegisteredSchema] = {}
        self._registered: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def schema_by_id(self, schema_id: int) -> RegisteredSchema:
        """GET /schemas/ids/{id}. Raises SchemaNotFoundError (404 with error code 40403),
        SchemaRegistryUnavailableError (unreachable, 5xx) or SchemaRegistryError (other)."""
        cached = self._by_id.get(schema_id)
        if cached is not None:
            return cached
        body = self._call("GET", f"/schemas/ids/{schema_id}", not_found_id=schema_id)
        schema = body.get("schema")
        if not isinstance(schema, str):
            raise SchemaRegistryError(f"registry answer for schema id {schema_id} has no schema")
        found = RegisteredSchema(
            schema_id=schema_id,
            schema=schema,
            schema_type=str(body.get("schemaType") or "AVRO"),
            has_references=bool(body.get("references")),
        )
        with self._lock:
            self._by_id[schema_id] = found
        return found

    def register(self, subject: str, schema: str) -> int:
        """POST /subjects/{subject}/versions; the schema's id (the existing one if the registry
        already holds it). Same errors as `schema_by_id`, 404 included as SchemaRegistryError."""
        key = (subject, schema)
        cached = self._registered.get(key)
        if cached is not None:
            return cached
        body = self._call(
            "POST", f"/subjects/{quote(subject, safe='')}/versions", json={"schema": schema}
        )
        schema_id = body.get("id")
        if not isinstance(schema_id, int) or isinstance(schema_id, bool):
            raise SchemaRegistryError(f"registry answer for subject {subject} has no id")
        with self._lock:
            self._registered[key] = schema_id
        return schema_id

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ConfluentRegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(
        self, method: str, path: str, *, json: Any = None, not_found_id: int | None = None
    ) -> dict[str, Any]:
        headers = {"Content-Type": _CONTENT_TYPE} if json is not None else None
        try:
            response = self._http.request(method, path, json=json, headers=headers)
        except httpx.TransportError as exc:
            raise SchemaRegistryUnavailableError(
                f"schema registry unreachable: {type(exc).__name__}"
            ) from exc
        status = response.status_code
        if status == 404 and not_found_id is not None and _error_code(response) == _NOT_FOUND:
            raise SchemaNotFoundError(not_found_id)
        if status >= 500 or status in _TRANSIENT_STATUSES:
            raise SchemaRegistryUnavailableError(f"schema registry answered {status} to {method}")
        if status != 200:
            raise SchemaRegistryError(
                f"schema registry answered {status} to {method} {path}: {_error_message(response)}"
            )
        try:
            body = response.json()
        except ValueError:
            raise SchemaRegistryError(f"schema registry answer to {method} is not JSON") from None
        if not isinstance(body, dict):
            raise SchemaRegistryError(f"schema registry answer to {method} is not an object")
        return body


def _error_code(response: httpx.Response) -> object:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error_code") if isinstance(body, dict) else None


def _error_message(response: httpx.Response) -> str:
    # The registry's own error text concerns schemas and subjects, never record data.
    try:
        body = response.json()
    except ValueError:
        return "(no JSON body)"
    if isinstance(body, dict):
        return f"{body.get('error_code')} {str(body.get('message'))[:200]}"
    return "(unexpected body)"
