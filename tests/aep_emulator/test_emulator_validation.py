"""Asynchronous validation: acknowledged first, then stored or listed in failures."""

from __future__ import annotations

from typing import Any

import orjson

from schemas.limits import RECORD_LIMIT
from tests.aep_emulator.emulator_helpers import (
    Emulator,
    EmulatorFactory,
    envelope,
    profile_record,
    provision,
)


def lines(emulator: Emulator, path: str) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in emulator.client.get(path).text.splitlines()]


def test_invalid_record_is_acknowledged_then_listed_with_aeps_wording(emulator: Emulator) -> None:
    p = provision(emulator.state)
    bad = profile_record("7", person={"gender": "robot"})
    answer = emulator.client.post(
        p.batch_path,
        json={"messages": [envelope(p, profile_record("6")), envelope(p, bad)]},
        headers=p.flow_headers,
    ).json()
    assert all("status" not in r for r in answer["responses"])
    (failure,) = lines(emulator, "/_emulator/failures")
    assert failure["xactionId"] == answer["responses"][1]["xactionId"]
    assert failure["stage"] == "validation"
    assert failure["status"] == 400
    assert failure["datasetId"] == p.dataset.id
    assert failure["receivedTimeMs"] == answer["receivedTimeMs"]
    assert failure["errors"] == [
        {
            "pointerToViolation": "#/person/gender",
            "keyword": "enum",
            # Values included, as AEP does, so the client's scrubbing gets tested.
            "message": "robot is not a valid enum value",
        }
    ]
    records = lines(emulator, "/_emulator/records")
    assert [r["entity"]["_id"] for r in records] == ["commerce-6"]
    stats = emulator.client.get("/_emulator/stats").json()["messages"]
    assert (stats["received"], stats["accepted"], stats["failed_validation"]) == (2, 1, 1)


def test_at_most_five_errors_per_message(emulator: Emulator) -> None:
    p = provision(emulator.state)
    bad = profile_record(**{f"unknown{i}": "x" for i in range(8)})
    emulator.client.post(
        p.batch_path, json={"messages": [envelope(p, bad)]}, headers=p.flow_headers
    )
    (failure,) = lines(emulator, "/_emulator/failures")
    assert len(failure["errors"]) == 5


def test_record_over_the_profile_limit_is_acknowledged_and_dropped(emulator: Emulator) -> None:
    p = provision(emulator.state)
    big = profile_record("8")
    big["person"]["name"]["firstName"] = "x" * RECORD_LIMIT
    answer = emulator.client.post(
        p.batch_path, json={"messages": [envelope(p, big)]}, headers=p.flow_headers
    )
    assert "status" not in answer.json()["responses"][0]
    (failure,) = lines(emulator, "/_emulator/failures")
    assert failure["stage"] == "size"
    assert str(RECORD_LIMIT) in failure["errors"][0]["message"]
    stats = emulator.client.get("/_emulator/stats").json()["messages"]
    assert stats["dropped_too_large"] == 1
    assert stats["accepted"] == 0


def test_record_exactly_at_the_limit_is_kept(emulator: Emulator) -> None:
    p = provision(emulator.state)
    record = profile_record("8")
    record["person"]["name"]["firstName"] = ""
    size = len(orjson.dumps(record))
    record["person"]["name"]["firstName"] = "x" * (RECORD_LIMIT - size)
    assert len(orjson.dumps(record)) == RECORD_LIMIT
    emulator.client.post(
        p.batch_path, json={"messages": [envelope(p, record)]}, headers=p.flow_headers
    )
    emulator.state.worker.wait_idle()
    assert emulator.client.get("/_emulator/stats").json()["messages"]["accepted"] == 1


def test_deletes_are_not_schema_checked(emulator: Emulator) -> None:
    p = provision(emulator.state)
    delete = {"_id": "commerce-5", "identityMap": profile_record("5")["identityMap"]}
    emulator.client.post(
        p.batch_path,
        json={"messages": [envelope(p, delete, operation="delete")]},
        headers=p.flow_headers,
    )
    (record,) = lines(emulator, "/_emulator/records")
    assert record["operation"] == "delete"
    stats = emulator.client.get("/_emulator/stats").json()["messages"]
    assert (stats["accepted"], stats["deleted"]) == (1, 1)


def test_merge_is_a_partial_row(emulator: Emulator) -> None:
    p = provision(emulator.state)
    partial = {"identityMap": profile_record("5")["identityMap"], "person": {"gender": "female"}}
    emulator.client.post(
        p.batch_path,
        json={"messages": [envelope(p, partial, operation="merge")]},
        headers=p.flow_headers,
    )
    assert lines(emulator, "/_emulator/failures") == []
    assert lines(emulator, "/_emulator/records")[0]["operation"] == "merge"


def test_validation_off_stores_anything(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(validation=False)
    p = provision(emulator.state)
    emulator.client.post(
        p.batch_path,
        json={"messages": [envelope(p, profile_record(anything="goes"))]},
        headers=p.flow_headers,
    )
    assert len(lines(emulator, "/_emulator/records")) == 1


def test_timestamp_mode_requires_last_updated_date(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(merge_mode="timestamp")
    p = provision(emulator.state)
    record = profile_record()
    del record["extSourceSystemAudit"]
    emulator.client.post(
        p.batch_path, json={"messages": [envelope(p, record)]}, headers=p.flow_headers
    )
    (failure,) = lines(emulator, "/_emulator/failures")
    assert failure["errors"][0]["message"] == "required key [lastUpdatedDate] not found"


def test_backlog_is_reported(emulator: Emulator) -> None:
    body = emulator.client.get("/_emulator/stats").json()
    assert body["validation"]["backlog"] == {"messages": 0, "oldest_s": 0.0}


def test_validation_in_a_worker_process_gives_the_same_answers(
    make_emulator: EmulatorFactory,
) -> None:
    emulator = make_emulator(validation_processes=1)
    p = provision(emulator.state)
    big = profile_record("3")
    big["person"]["name"]["firstName"] = "x" * RECORD_LIMIT
    messages = [
        envelope(p, profile_record("1")),
        {"header": {}},
        envelope(p, profile_record("2", person={"gender": "robot"})),
        envelope(p, big),
        envelope(p, profile_record("4")),
    ]
    emulator.client.post(p.batch_path, json={"messages": messages}, headers=p.flow_headers)
    emulator.client.post(p.single_path, json=envelope(p, profile_record("5")))
    records = lines(emulator, "/_emulator/records")
    assert [r["entity"]["_id"] for r in records] == ["commerce-1", "commerce-4", "commerce-5"]
    failures = lines(emulator, "/_emulator/failures")
    assert [f["stage"] for f in failures] == ["envelope", "validation", "size"]
    assert failures[1]["errors"][0]["message"] == "robot is not a valid enum value"
    stats = emulator.client.get("/_emulator/stats").json()["messages"]
    assert (stats["accepted"], stats["failed_validation"], stats["dropped_too_large"]) == (3, 1, 1)
