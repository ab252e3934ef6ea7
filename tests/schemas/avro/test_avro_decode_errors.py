"""Every decode error class is produced, and no message carries record content."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from fastavro import schemaless_writer

from schemas.avro import (
    DECODE_ERROR_CLASSES,
    ConfluentRegistryClient,
    DecodeError,
    EventDecoder,
    WriterSchemaRegistry,
)
from schemas.avro.framing import confluent_header
from schemas.error_classes import ERROR_CLASSES
from tests.schemas.avro.avro_testdata import (
    NEWER_DIR,
    FakeRegistryApi,
    golden,
    retyped_customer_id,
    shipped_schema,
)

FULL = golden("CustomerUpdated.v2.full")
BODY = FULL.value[10:]
# Values of the full sample that must never show in an error message.
SECRETS = ("Jürgen", "Weiß", "juergen", "Königstraße", "Stuttgart", "DE123456789", "山田", "gold")


def _decode_with_registry(api: FakeRegistryApi, schema_id: int, body: bytes) -> None:
    client = ConfluentRegistryClient("http://registry.test", transport=api.transport())
    EventDecoder(WriterSchemaRegistry.load(), client).decode(confluent_header(schema_id) + body)


def _extra_registry(tmp_path: Path, schema: dict[str, Any]) -> WriterSchemaRegistry:
    (tmp_path / "extra.avsc").write_text(json.dumps(schema), encoding="utf-8")
    return WriterSchemaRegistry.load(tmp_path)


def _unknown_record_type(tmp_path: Path) -> None:
    other = shipped_schema("CustomerDeleted.v1") | {"name": "CustomerMerged"}
    registry = _extra_registry(tmp_path, other)
    fp = next(s for s in registry if s.full_name.endswith("CustomerMerged")).fingerprint
    EventDecoder(registry).decode(b"\xc3\x01" + fp + golden("CustomerDeleted.v1.full").value[10:])


def _schema_mismatch(tmp_path: Path) -> None:
    registry = _extra_registry(tmp_path, retyped_customer_id())
    writer = next(s for s in registry if s.version is None)
    datum = FULL.datum | {"customer": FULL.datum["customer"] | {"id": "4242"}}
    body = BytesIO()
    schemaless_writer(body, writer.parsed, datum)
    EventDecoder(registry).decode(b"\xc3\x01" + writer.fingerprint + body.getvalue())


def _invalid_schema(_: Path) -> None:
    api = FakeRegistryApi(schemas={7: "{definitely not avro"})
    _decode_with_registry(api, 7, BODY)


CASES: dict[str, Callable[[Path], object]] = {
    "decode.empty_value": lambda _: EventDecoder(WriterSchemaRegistry.load()).decode(b""),
    "decode.unknown_magic": lambda _: EventDecoder(WriterSchemaRegistry.load()).decode(b"{" + BODY),
    "decode.truncated": lambda _: EventDecoder(WriterSchemaRegistry.load()).decode(FULL.value[:-3]),
    "decode.unknown_fingerprint": lambda _: EventDecoder(WriterSchemaRegistry.load()).decode(
        b"\xc3\x01" + bytes(8) + BODY
    ),
    "decode.unknown_schema_id": lambda _: _decode_with_registry(FakeRegistryApi(), 99, BODY),
    "decode.no_schema_registry": lambda _: EventDecoder(WriterSchemaRegistry.load()).decode(
        confluent_header(1) + BODY
    ),
    "decode.invalid_schema": _invalid_schema,
    "decode.unknown_record_type": _unknown_record_type,
    "decode.schema_mismatch": _schema_mismatch,
    "decode.malformed_body": lambda _: EventDecoder(WriterSchemaRegistry.load()).decode(
        FULL.value + b"\x00"
    ),
}


def test_cases_cover_every_decode_error_class() -> None:
    assert set(CASES) == set(DECODE_ERROR_CLASSES)


def test_every_decode_error_class_is_registered() -> None:
    assert set(DECODE_ERROR_CLASSES) <= set(ERROR_CLASSES)
    assert {c for c in ERROR_CLASSES if c.startswith("decode.")} == set(DECODE_ERROR_CLASSES)


@pytest.mark.parametrize("error_class", sorted(CASES))
def test_decode_error_class_is_produced(tmp_path: Path, error_class: str) -> None:
    with pytest.raises(DecodeError) as raised:
        CASES[error_class](tmp_path)
    assert raised.value.error_class == error_class
    assert raised.value.__cause__ is None
    text = str(raised.value)
    assert not [s for s in SECRETS if s in text]


@pytest.mark.parametrize(
    ("value", "error_class"),
    [
        (None, "decode.empty_value"),
        (b"\xc3", "decode.truncated"),
        (b"\xc3\x02" + bytes(8), "decode.unknown_magic"),
        (b"\xc3\x01" + bytes(7), "decode.truncated"),
        (b"\x00\x00\x00\x01", "decode.truncated"),
        (FULL.value[:10], "decode.truncated"),
        (FULL.value[:10] + b"\xff" * 40, "decode.malformed_body"),
    ],
)
def test_framing_edge_cases(
    registry: WriterSchemaRegistry, value: bytes | None, error_class: str
) -> None:
    with pytest.raises(DecodeError) as raised:
        EventDecoder(registry).decode(value)
    assert raised.value.error_class == error_class


def test_body_errors_name_the_record_type(registry: WriterSchemaRegistry) -> None:
    with pytest.raises(DecodeError) as raised:
        EventDecoder(registry).decode(FULL.value[:-1])
    assert raised.value.record_type == "CustomerUpdated"


def test_unknown_schema_id_is_remembered() -> None:
    api = FakeRegistryApi()
    client = ConfluentRegistryClient("http://registry.test", transport=api.transport())
    decoder = EventDecoder(WriterSchemaRegistry.load(NEWER_DIR), client)
    for _ in range(3):
        with pytest.raises(DecodeError, match=r"decode\.unknown_schema_id"):
            decoder.decode(confluent_header(5) + BODY)
    assert api.calls == 1


def test_unknown_schema_id_is_asked_again_later(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeRegistryApi()
    client = ConfluentRegistryClient("http://registry.test", transport=api.transport())
    registry = WriterSchemaRegistry.load()
    decoder = EventDecoder(registry, client)
    with pytest.raises(DecodeError):
        decoder.decode(confluent_header(1) + BODY)
    api.add(registry.reader("CustomerUpdated").text)  # the id now exists (id 1)
    clock = time.monotonic() + 31
    monkeypatch.setattr(time, "monotonic", lambda: clock)
    assert decoder.decode(confluent_header(1) + BODY).record_type == "CustomerUpdated"


def test_a_refused_schema_id_is_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import schemas.avro.decoder as decoder_module
    from schemas.avro.writer_schema import parse_writer_schema as real

    parses: list[str] = []

    def counting(text: str, **kwargs: Any) -> Any:
        parses.append(text)
        return real(text, **kwargs)

    monkeypatch.setattr(decoder_module, "parse_writer_schema", counting)
    other = json.dumps(shipped_schema("CustomerDeleted.v1") | {"name": "CustomerMerged"})
    api = FakeRegistryApi(schemas={3: other})
    client = ConfluentRegistryClient("http://registry.test", transport=api.transport())
    decoder = EventDecoder(WriterSchemaRegistry.load(), client)
    for _ in range(3):
        with pytest.raises(DecodeError) as raised:
            decoder.decode(confluent_header(3) + BODY)
        assert raised.value.error_class == "decode.unknown_record_type"
    assert len(parses) == 1
