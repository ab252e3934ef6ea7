"""`profile-sync map`: one output line per non-blank input line, in order; exit codes 0/1/2."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from consumer.cli import main
from consumer.commands.map import run_map
from consumer.config.mapper_options import options_from_settings
from consumer.config.settings import ConfigFileError, XdmSettings
from mappers import MapperOptions
from schemas.limits import RECORD_LIMIT
from schemas.xdm import XdmOptions
from tests.mappers.inputs import address, customer, delete_event, upsert_event


def line(record_type: str, event: dict[str, Any]) -> str:
    return json.dumps({"type": record_type, "event": event}, ensure_ascii=False)


def run(text: str, options: MapperOptions | None = None) -> tuple[int, list[dict[str, Any]], str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_map(io.StringIO(text), out, options or MapperOptions(), err)
    return code, [json.loads(row) for row in out.getvalue().splitlines()], err.getvalue()


def test_upsert_and_delete_lines_exit_0() -> None:
    event = upsert_event(customer(firstname="Анна", default_billing=7, addresses=[address()]))
    code, rows, _ = run(
        line("CustomerCreated", event) + "\n" + line("CustomerDeleted", delete_event())
    )
    assert code == 0
    assert [row["operation"] for row in rows] == ["upsert", "delete"]
    assert rows[0]["record"]["person"]["name"]["firstName"] == "Анна"
    assert rows[0]["record"]["billingAddress"]["stateProvince"] == "US-CA"
    assert set(rows[1]["record"]) == {"_id", "identityMap"}
    assert rows[1]["record"]["identityMap"]["CustomerId"][0]["id"] == "42"


def test_blank_lines_are_skipped_and_order_is_kept() -> None:
    good = line("CustomerUpdated", upsert_event())
    bad_email = line("CustomerUpdated", upsert_event(customer(email="avery@@example.com")))
    text = f"\n{good}\n   \n{{not json\n\n{bad_email}\n[1, 2]\n{good}\n\t\n"
    code, rows, err = run(text)
    assert code == 1
    assert len(rows) == 5
    assert rows[0]["operation"] == "upsert"
    assert rows[1] == {
        "error": {
            "class": "map.invalid_json",
            "message": "line is not valid UTF-8 JSON",
            "fields": [],
        }
    }
    assert rows[2]["error"]["class"] == "map.invalid_email"
    assert rows[2]["error"]["fields"] == ["customer.email"]
    assert "avery" not in json.dumps(rows[2])
    assert rows[3]["error"]["class"] == "map.invalid_json"
    assert rows[4]["operation"] == "upsert"
    assert "error=3" in err
    assert "upsert=2" in err


def test_timestamp_without_offset_is_an_error_line() -> None:
    event = upsert_event(customer(updated_at="2026-11-28T10:15:00"))
    code, rows, _ = run(line("CustomerUpdated", event))
    assert code == 1
    assert rows == [
        {
            "error": {
                "class": "map.invalid_timestamp",
                "message": "timestamp must be epoch milliseconds or ISO-8601 with a UTC offset: "
                "customer.updated_at",
                "fields": ["customer.updated_at"],
            }
        }
    ]


@pytest.mark.parametrize(
    ("text", "error_class", "fields"),
    [
        ('{"event": {}}', "map.unknown_record_type", ["type"]),
        ('{"type": "CustomerMerged", "event": {}}', "map.unknown_record_type", ["type"]),
        ('{"type": "CustomerCreated", "event": [1]}', "map.invalid_event", ["event"]),
        ('{"type": "CustomerCreated"}', "map.invalid_event", ["event"]),
        ('"just a string"', "map.invalid_json", []),
        ('{"type": "CustomerCreated", "event": {}', "map.invalid_json", []),
    ],
)
def test_lines_of_the_wrong_shape(text: str, error_class: str, fields: list[str]) -> None:
    code, rows, _ = run(text)
    assert code == 1
    assert rows[0]["error"]["class"] == error_class
    assert rows[0]["error"]["fields"] == fields


def test_options_reach_the_mapper() -> None:
    options = MapperOptions(
        email_identity=False,
        xdm=XdmOptions(audit_field_group=False, tenant_fields=True, tenant_id="acme"),
    )
    _, rows, _ = run(line("CustomerCreated", upsert_event()), options)
    record = rows[0]["record"]
    assert list(record["identityMap"]) == ["CustomerId"]
    assert "extSourceSystemAudit" not in record
    assert record["_acme"]["commerce"]["websiteId"] == 1


def test_record_over_the_size_limit_is_an_error_line() -> None:
    # Each field is within the input limit; together they pass AEP's record limit.
    half = "x" * (RECORD_LIMIT // 2 + 10)
    event = upsert_event(customer(firstname=half, lastname=half))
    code, rows, _ = run(line("CustomerCreated", event))
    assert code == 1
    assert rows[0]["error"]["class"] == "validate.record_too_large"
    assert half not in rows[0]["error"]["message"]


def test_a_leading_byte_order_mark_is_ignored() -> None:
    code, rows, _ = run("\ufeff" + line("CustomerCreated", upsert_event()))
    assert code == 0
    assert rows[0]["operation"] == "upsert"


def test_empty_input_exits_0() -> None:
    assert run("") == (0, [], "profile-sync map: no input lines\n")


def test_output_is_utf8_bytes_when_the_stream_has_a_buffer() -> None:
    buffer = io.BytesIO()
    out = io.TextIOWrapper(buffer, encoding="ascii")
    event = upsert_event(customer(firstname="陽菜"))
    assert (
        run_map(io.StringIO(line("CustomerCreated", event)), out, MapperOptions(), io.StringIO())
        == 0
    )
    out.flush()
    row = json.loads(buffer.getvalue().decode("utf-8"))
    assert row["record"]["person"]["name"]["firstName"] == "陽菜"


def test_a_line_that_is_not_utf8_is_an_error_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\xff\xfe{}\n" + line("CustomerCreated", upsert_event()).encode() + b"\n")
    out = io.StringIO()
    with path.open(encoding="utf-8") as source:
        code = run_map(source, out, MapperOptions(), io.StringIO())
    rows = [json.loads(row) for row in out.getvalue().splitlines()]
    assert code == 1
    assert rows[0]["error"]["class"] == "map.invalid_json"
    assert rows[1]["operation"] == "upsert"


class _FailingSource(io.StringIO):
    def __iter__(self) -> Any:
        raise OSError("disk gone")


def test_io_error_exits_2() -> None:
    err = io.StringIO()
    assert run_map(_FailingSource(), io.StringIO(), MapperOptions(), err) == 2
    assert "I/O error" in err.getvalue()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("PROFILE_SYNC_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_env")
def test_cli_reads_a_file_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(line("CustomerCreated", upsert_event()) + "\n", encoding="utf-8")
    runner = CliRunner()
    from_file = runner.invoke(main, ["map", str(path)])
    assert from_file.exit_code == 0, from_file.output
    assert json.loads(from_file.stdout.splitlines()[0])["operation"] == "upsert"
    from_stdin = runner.invoke(main, ["map", "-"], input="not json\n")
    assert from_stdin.exit_code == 1
    assert json.loads(from_stdin.stdout.splitlines()[0])["error"]["class"] == "map.invalid_json"


@pytest.mark.usefixtures("clean_env")
def test_cli_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["map", str(tmp_path / "absent.jsonl")])
    assert result.exit_code == 2


@pytest.mark.usefixtures("clean_env")
def test_options_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_SYNC_XDM_EMAIL_IDENTITY", "false")
    monkeypatch.setenv("PROFILE_SYNC_GENDER_MAP", '{"5": "female"}')
    monkeypatch.setenv("PROFILE_SYNC_XDM_AUDIT_FIELD_GROUP", "false")
    monkeypatch.setenv("PROFILE_SYNC_XDM_TENANT_FIELDS", "true")
    options = options_from_settings(XdmSettings(), "acme")
    assert options.email_identity is False
    assert dict(options.gender_map) == {5: "female"}
    assert options.xdm == XdmOptions(audit_field_group=False, tenant_fields=True, tenant_id="acme")
    with pytest.raises(ConfigFileError) as raised:
        options_from_settings(XdmSettings(), None)
    assert raised.value.setting == "PROFILE_SYNC_AEP_TENANT_ID"


@pytest.mark.usefixtures("clean_env")
def test_tenant_id_is_ignored_without_tenant_fields() -> None:
    options = options_from_settings(XdmSettings(), "acme")
    assert options.xdm == XdmOptions()
