"""What init prints: `ready_at` and the summary lines."""

from __future__ import annotations

from datetime import UTC, datetime

from consumer.provisioning.plan import Change, Known
from consumer.provisioning.report import iso_z, json_line, ready_at, summary


def test_ready_at_is_creation_plus_warmup_rounded_up() -> None:
    known = Known(tenant_id="acme", flow_id="f", flow_created_ms=1_764_324_000_001)
    moment = ready_at(known, 300)
    assert moment == datetime(2025, 11, 28, 10, 5, 1, tzinfo=UTC)
    assert iso_z(moment) == "2025-11-28T10:05:01Z"


def test_no_flow_no_ready_at() -> None:
    assert ready_at(Known(tenant_id="acme"), 300) is None
    assert json_line(Known(tenant_id="acme"), [], None)["ready_at"] is None


def test_json_line_keys_and_changes() -> None:
    change = Change("create", "schema", "Commerce Customer Profile")
    line = json_line(Known(tenant_id="acme", schema_id="s"), [change], None)
    assert list(line) == [
        "tenant_id",
        "schema_id",
        "dataset_id",
        "connection_id",
        "inlet_url",
        "flow_id",
        "ready_at",
        "changes",
    ]
    assert line["changes"] == [
        {"action": "create", "kind": "schema", "key": "Commerce Customer Profile"}
    ]


def test_summary_of_a_refusal_lists_every_reason() -> None:
    lines = summary(
        sandbox="prod",
        tenant_id="acme",
        changes=[Change("create", "dataset", "x")],
        refusals=["first reason", "second reason"],
        planned_only=False,
        ready=None,
        now=datetime.now(UTC),
    )
    assert "  - first reason" in lines
    assert "  - second reason" in lines
    assert not any("create dataset" in line for line in lines)


def test_summary_says_when_the_flow_is_ready() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    lines = summary(
        sandbox="prod",
        tenant_id="acme",
        changes=[Change("create", "dataflow", "f")],
        refusals=[],
        planned_only=False,
        ready=datetime(2026, 1, 1, 0, 5, tzinfo=UTC),
        now=now,
    )
    assert "  did create dataflow 'f'" in lines
    assert (
        lines[-1]
        == "the dataflow accepts data from 2026-01-01T00:05:00Z (in 300 s; `run` waits until then)"
    )
