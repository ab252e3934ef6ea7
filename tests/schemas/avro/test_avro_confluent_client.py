"""The Schema Registry client: caching, error mapping, paths (no network: MockTransport)."""

from __future__ import annotations

import httpx
import pytest

from schemas.avro import (
    ConfluentRegistryClient,
    DecodeError,
    EventDecoder,
    EventEncoder,
    SchemaNotFoundError,
    SchemaRegistryError,
    SchemaRegistryUnavailableError,
    TransientDecodeError,
    WriterSchemaRegistry,
)
from schemas.avro.framing import confluent_header
from tests.schemas.avro.avro_testdata import FakeRegistryApi, client_with, golden

BODY = golden("CustomerUpdated.v2.full").value[10:]


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def test_schema_by_id_is_cached(
    fake_api: FakeRegistryApi, fake_client: ConfluentRegistryClient
) -> None:
    schema_id = fake_api.add('"string"')
    assert fake_client.schema_by_id(schema_id).schema == '"string"'
    assert fake_client.schema_by_id(schema_id).schema_type == "AVRO"
    assert fake_api.calls == 1


def test_register_uses_the_subject_and_caches(
    fake_api: FakeRegistryApi, fake_client: ConfluentRegistryClient
) -> None:
    first = fake_client.register(
        "commerce.customer.v1-commerce.customer.v1.CustomerCreated", '"int"'
    )
    again = fake_client.register(
        "commerce.customer.v1-commerce.customer.v1.CustomerCreated", '"int"'
    )
    assert first == again
    assert fake_api.calls == 1
    assert fake_api.subjects == {
        "commerce.customer.v1-commerce.customer.v1.CustomerCreated": [first]
    }


def test_requests_keep_the_base_path() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"schema": '"int"'})

    client = ConfluentRegistryClient(
        "http://registry.test/apis/ccompat/v7", transport=httpx.MockTransport(handler)
    )
    client.schema_by_id(3)
    assert seen == ["/apis/ccompat/v7/schemas/ids/3"]


def test_404_is_schema_not_found() -> None:
    client = client_with(lambda r: httpx.Response(404, json={"error_code": 40403}))
    with pytest.raises(SchemaNotFoundError):
        client.schema_by_id(1)


@pytest.mark.parametrize(
    "response",
    [httpx.Response(404, json={"error_code": 404, "message": "no resource"}), httpx.Response(404)],
)
def test_404_outside_the_api_is_a_registry_error(response: httpx.Response) -> None:
    # e.g. a base URL without Apicurio's /apis/ccompat/v7: every id would look unknown.
    client = client_with(lambda r: response)
    with pytest.raises(SchemaRegistryError):
        client.schema_by_id(1)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_5xx_and_throttling_are_unavailable(status: int) -> None:
    client = client_with(lambda r: httpx.Response(status))
    with pytest.raises(SchemaRegistryUnavailableError):
        client.schema_by_id(1)
    with pytest.raises(SchemaRegistryUnavailableError):
        client.register("s", '"int"')


@pytest.mark.parametrize("handler", [_refuse, _timeout])
def test_unreachable_is_unavailable(handler: object) -> None:
    client = ConfluentRegistryClient(
        "http://registry.test",
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
    )
    with pytest.raises(SchemaRegistryUnavailableError):
        client.schema_by_id(1)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(401, json={"error_code": 401, "message": "Unauthorized"}),
        httpx.Response(403),
        httpx.Response(200, text="<html>proxy</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"no": "schema"}),
    ],
)
def test_refusals_and_foreign_answers_are_registry_errors(response: httpx.Response) -> None:
    client = client_with(lambda r: response)
    with pytest.raises(SchemaRegistryError):
        client.schema_by_id(1)


@pytest.mark.parametrize("handler", [_refuse, lambda r: httpx.Response(503)])
def test_decoder_turns_unavailable_into_transient(handler: object) -> None:
    client = ConfluentRegistryClient(
        "http://registry.test",
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
    )
    decoder = EventDecoder(WriterSchemaRegistry.load(), client)
    with pytest.raises(TransientDecodeError):
        decoder.decode(confluent_header(1) + BODY)


def test_decoder_recovers_after_a_transient_fault(fake_api: FakeRegistryApi) -> None:
    registry = WriterSchemaRegistry.load()
    client = ConfluentRegistryClient("http://registry.test", transport=fake_api.transport())
    value = EventEncoder(registry).encode_confluent(
        "CustomerUpdated", golden("CustomerUpdated.v2.full").datum, client
    )
    decoder = EventDecoder(
        registry, ConfluentRegistryClient("http://registry.test", transport=fake_api.transport())
    )
    fake_api.fail_with = 503
    with pytest.raises(TransientDecodeError):
        decoder.decode(value)
    fake_api.fail_with = None
    assert decoder.decode(value).record_type == "CustomerUpdated"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [({"schemaType": "PROTOBUF"}, "PROTOBUF"), ({"references": [{"name": "x"}]}, "references")],
)
def test_non_avro_or_referencing_schemas_are_invalid(extra: dict[str, object], reason: str) -> None:
    registry = WriterSchemaRegistry.load()
    api = FakeRegistryApi()
    schema_id = api.add(registry.reader("CustomerUpdated").text)
    api.extra[schema_id] = extra
    client = ConfluentRegistryClient("http://registry.test", transport=api.transport())
    with pytest.raises(DecodeError, match=reason) as raised:
        EventDecoder(registry, client).decode(confluent_header(schema_id) + BODY)
    assert raised.value.error_class == "decode.invalid_schema"
