"""The admin API exactly as docs/DESIGN.md §8 pins it."""

from __future__ import annotations

import time
from typing import Any

import orjson

from tests.aep_emulator.emulator_helpers import Emulator, envelope, profile_record, provision

FULL_FAULTS = {
    "error_rate": 0.25,
    "statuses": [429, 500, 502, 503, 504],
    "retry_after_s": 3,
    "latency_ms": 5,
    "latency_jitter_ms": 2,
    "outage_s": 0.0,
    "outage_mode": "503",
    "drop_connection_rate": 0.0,
    "scope": "all",
}


def lines(emulator: Emulator, path: str, **params: Any) -> list[dict[str, Any]]:
    answer = emulator.client.get(path, params=params)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    return [orjson.loads(x) for x in answer.text.splitlines()]


def test_faults_post_replaces_and_get_returns(emulator: Emulator) -> None:
    assert emulator.client.post("/_emulator/faults", json=FULL_FAULTS).json() == FULL_FAULTS
    assert emulator.client.get("/_emulator/faults").json() == FULL_FAULTS
    # Replaces the whole set: what is not given goes back to its default.
    answer = emulator.client.post("/_emulator/faults", json={"latency_ms": 10}).json()
    assert answer["latency_ms"] == 10
    assert answer["error_rate"] == 0.0
    assert answer["scope"] == "inlet"
    cleared = emulator.client.post("/_emulator/faults", json={}).json()
    assert cleared["error_rate"] == 0.0
    assert cleared["latency_ms"] == 0
    assert emulator.client.get("/_emulator/faults").json() == cleared


def test_outage_mode_may_be_a_number(emulator: Emulator) -> None:
    answer = emulator.client.post("/_emulator/faults", json={"outage_mode": 503})
    assert answer.json()["outage_mode"] == "503"


def test_stats_shape(emulator: Emulator) -> None:
    p = provision(emulator.state)
    emulator.client.post(
        p.batch_path, json={"messages": [envelope(p, profile_record())]}, headers=p.flow_headers
    )
    emulator.state.worker.wait_idle()
    stats = emulator.client.get("/_emulator/stats").json()
    assert set(stats) == {"requests", "messages", "validation"}
    assert set(stats["requests"]) == {"total", "by_status", "by_route", "writes"}
    assert set(stats["messages"]) == {
        "received",
        "accepted",
        "rejected",
        "failed_validation",
        "dropped_too_large",
        "dropped_warmup",
        "deleted",
    }
    assert stats["requests"]["total"] == 1
    assert stats["requests"]["by_status"] == {"207": 1}
    assert stats["requests"]["by_route"] == {"POST /collection/batch/{inletId}": 1}
    assert stats["messages"]["accepted"] == 1


def test_writes_count_non_get_platform_calls(emulator: Emulator) -> None:
    headers = emulator.platform_headers()
    emulator.client.get("/data/foundation/catalog/dataSets", headers=headers)
    emulator.client.post("/data/foundation/catalog/dataSets", json={}, headers=headers)
    emulator.client.post(
        "/data/foundation/flowservice/connections", json={}
    )  # refused: still a call
    requests = emulator.client.get("/_emulator/stats").json()["requests"]
    assert requests["writes"] == 2
    # IMS is not Platform: the token request is counted but is no write.
    assert requests["total"] == 4


def test_records_in_order_with_filters(emulator: Emulator) -> None:
    p1 = provision(emulator.state, name="one")
    p2 = provision(emulator.state, name="two")
    first = emulator.client.post(
        p1.batch_path,
        json={"messages": [envelope(p1, profile_record("1"))]},
        headers=p1.flow_headers,
    ).json()
    time.sleep(0.01)
    second = emulator.client.post(
        p2.batch_path,
        json={"messages": [envelope(p2, profile_record("2")), envelope(p2, profile_record("3"))]},
        headers=p2.flow_headers,
    ).json()
    records = lines(emulator, "/_emulator/records")
    assert [r["entity"]["_id"] for r in records] == ["commerce-1", "commerce-2", "commerce-3"]
    assert set(records[0]) == {
        "xactionId",
        "batchId",
        "receivedTimeMs",
        "datasetId",
        "flowId",
        "operation",
        "entity",
    }
    assert records[0]["xactionId"] == first["responses"][0]["xactionId"]
    assert records[1]["batchId"] == second["batchId"]
    assert records[0]["operation"] == "create"
    only_two = lines(emulator, "/_emulator/records", datasetId=p2.dataset.id)
    assert [r["entity"]["_id"] for r in only_two] == ["commerce-2", "commerce-3"]
    since = lines(emulator, "/_emulator/records", since_ms=str(second["receivedTimeMs"]))
    assert [r["entity"]["_id"] for r in since] == ["commerce-2", "commerce-3"]
    assert emulator.client.get("/_emulator/records", params={"since_ms": "soon"}).status_code == 400


def test_failures_lines(emulator: Emulator) -> None:
    p = provision(emulator.state)
    emulator.client.post(
        p.batch_path,
        json={"messages": [{"header": {}}, envelope(p, profile_record(person={"gender": "?"}))]},
        headers=p.flow_headers,
    )
    failures = lines(emulator, "/_emulator/failures")
    assert [f["stage"] for f in failures] == ["envelope", "validation"]
    for failure in failures:
        assert set(failure) == {
            "xactionId",
            "receivedTimeMs",
            "datasetId",
            "stage",
            "status",
            "errors",
        }
        for error in failure["errors"]:
            assert set(error) == {"pointerToViolation", "keyword", "message"}


def test_reset_clears_data_stats_faults_but_not_resources(emulator: Emulator) -> None:
    p = provision(emulator.state)
    emulator.client.post(
        p.batch_path, json={"messages": [envelope(p, profile_record())]}, headers=p.flow_headers
    )
    emulator.client.post("/_emulator/faults", json={"latency_ms": 1})
    answer = emulator.client.post("/_emulator/reset")
    assert answer.status_code == 200
    assert lines(emulator, "/_emulator/records") == []
    assert emulator.client.get("/_emulator/stats").json()["requests"]["total"] == 0
    assert emulator.client.get("/_emulator/faults").json()["latency_ms"] == 0
    assert emulator.state.resources.datasets.get(p.dataset.id) is not None
    assert (
        emulator.client.post(
            p.batch_path, json={"messages": [envelope(p, profile_record())]}, headers=p.flow_headers
        ).status_code
        == 207
    )


def test_reset_with_resources_clears_them_too(emulator: Emulator) -> None:
    p = provision(emulator.state)
    emulator.client.post("/_emulator/reset", json={"resources": True})
    assert emulator.state.resources.datasets.get(p.dataset.id) is None
    assert emulator.state.resources.connection_by_inlet(p.inlet_id) is None
    assert emulator.client.post(p.batch_path, json={"messages": [{}]}).status_code == 404
    # Standard namespaces are not resources anyone created: they stay.
    assert emulator.state.resources.namespaces.by_alias("Email") is not None
    assert emulator.client.post("/_emulator/reset", json={"resources": "yes"}).status_code == 400
