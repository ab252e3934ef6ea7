"""The single-message inlet: 200 answers, envelope 400s, syncValidation and its limit."""

from __future__ import annotations

import re

from aep_emulator.inlet import INLET_PROBLEM_TYPE
from tests.aep_emulator.emulator_helpers import (
    Emulator,
    EmulatorFactory,
    envelope,
    profile_record,
    provision,
)


def test_accepted_message_is_200_with_skipped_validation(emulator: Emulator) -> None:
    p = provision(emulator.state)
    answer = emulator.client.post(p.single_path, json=envelope(p, profile_record()))
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"inletId", "xactionId", "receivedTimeMs", "syncValidation"}
    assert body["inletId"] == p.inlet_id
    assert re.fullmatch(r"\d{13}:\d+:\d+", body["xactionId"])
    assert body["syncValidation"] == {"skipped": True}
    emulator.state.worker.wait_idle()
    assert emulator.client.get("/_emulator/stats").json()["messages"]["accepted"] == 1


def test_broken_envelope_is_400(emulator: Emulator) -> None:
    p = provision(emulator.state)
    message = envelope(p, profile_record())
    message["header"]["schemaRef"]["contentType"] = "text/plain"
    answer = emulator.client.post(p.single_path, json=message)
    assert answer.status_code == 400
    body = answer.json()
    assert body["type"] == INLET_PROBLEM_TYPE
    assert body["status"] == 400
    assert body["report"]["message"].endswith("Message has unknown xdm format")


def test_sync_validation_pass(emulator: Emulator) -> None:
    p = provision(emulator.state)
    answer = emulator.client.post(
        p.single_path, json=envelope(p, profile_record()), params={"syncValidation": "true"}
    )
    assert answer.status_code == 200
    assert answer.json()["syncValidation"] == {"status": "pass"}


def test_sync_validation_failure_has_aeps_report_shape(emulator: Emulator) -> None:
    p = provision(emulator.state)
    record = profile_record(workEmail={"address": "x@example.com"}, _id=12345)
    answer = emulator.client.post(
        p.single_path, json=envelope(p, record), params={"syncValidation": "true"}
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["type"] == INLET_PROBLEM_TYPE
    assert body["title"] == "Invalid XDM Message Format"
    assert body["report"]["message"].endswith("Message is invalid")
    (outer,) = body["report"]["cause"]["_streamingValidation"]
    assert outer["schemaLocation"] == "#"
    assert outer["pointerToViolation"] == "#"
    causes = outer["causingExceptions"]
    assert outer["message"] == f"{len(causes)} schema violations found"
    by_keyword = {c["keyword"]: c for c in causes}
    assert by_keyword["additionalProperties"]["message"] == (
        "extraneous key [workEmail] is not permitted"
    )
    assert by_keyword["additionalProperties"]["pointerToViolation"] == "#"
    assert by_keyword["type"]["pointerToViolation"] == "#/_id"
    assert by_keyword["type"]["schemaLocation"] == "#/properties/_id"
    assert by_keyword["type"]["message"] == "expected type: String, found: Long"
    assert all(c["causingExceptions"] == [] for c in causes)
    # Refused synchronously: nothing reaches the store.
    emulator.state.worker.wait_idle()
    assert emulator.client.get("/_emulator/records").text == ""


def test_sync_validation_is_rate_limited_per_minute(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(sync_validation_per_min=2)
    p = provision(emulator.state)
    statuses = [
        emulator.client.post(
            p.single_path, json=envelope(p, profile_record()), params={"syncValidation": "true"}
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    # Without syncValidation the minute budget does not apply.
    assert (
        emulator.client.post(p.single_path, json=envelope(p, profile_record())).status_code == 200
    )


def test_old_parameter_name_still_validates(emulator: Emulator) -> None:
    p = provision(emulator.state)
    answer = emulator.client.post(
        p.single_path, json=envelope(p, profile_record()), params={"synchronousValidation": "true"}
    )
    assert answer.json()["syncValidation"] == {"status": "pass"}
