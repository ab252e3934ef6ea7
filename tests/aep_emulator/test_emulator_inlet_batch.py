"""The batch inlet: 207 shapes, request-level answers, envelope checks, routing, warm-up."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from aep_emulator.inlet import AUTH_PROBLEM_TYPE, INLET_PROBLEM_TYPE
from schemas.flow_specs import PASSTHROUGH_FLOW_SPEC
from schemas.limits import REQUEST_LIMIT
from tests.aep_emulator.emulator_helpers import (
    ORG,
    Emulator,
    EmulatorFactory,
    Provisioned,
    envelope,
    profile_record,
    provision,
)


def post_batch(
    emulator: Emulator, p: Provisioned, messages: list[Any], headers: dict[str, str] | None = None
) -> Any:
    return emulator.client.post(
        p.batch_path, json={"messages": messages}, headers=headers or p.flow_headers
    )


def test_sink_shape_by_default(emulator: Emulator) -> None:
    p = provision(emulator.state)
    answer = post_batch(emulator, p, [envelope(p, profile_record("1")), {"body": {}}])
    assert answer.status_code == 207
    body = answer.json()
    assert set(body) == {"inletId", "batchId", "receivedTimeMs", "responses"}
    assert body["inletId"] == p.inlet_id
    assert re.fullmatch(r"\d{13}:\d+:\d+", body["batchId"])
    ok, failed = body["responses"]
    assert re.fullmatch(r"[0-9a-f-]{36}-0", ok["xactionId"])
    assert set(ok) == {"xactionId"}
    assert failed["xactionId"] == ok["xactionId"][:-1] + "1"
    assert failed["status"] == 400
    assert failed["message"] == (
        "The 'header' field is mandatory. Provide a valid 'header' value and try again."
    )


def test_docs_shape_when_switched(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(result_format="docs")
    p = provision(emulator.state)
    body = post_batch(emulator, p, [envelope(p, profile_record("1")), {"header": {}}]).json()
    ok, failed = body["responses"]
    assert ok == {"xactionId": f"{body['batchId']}:0"}
    assert set(failed) == {"statusCode", "message"}
    assert failed["statusCode"] == 400


def test_one_result_per_message_in_order(emulator: Emulator) -> None:
    p = provision(emulator.state)
    messages: list[Any] = [envelope(p, profile_record(str(i))) for i in range(50)]
    messages[7] = {"header": {"imsOrgId": ORG}}
    body = post_batch(emulator, p, messages).json()
    assert len(body["responses"]) == 50
    assert [i for i, r in enumerate(body["responses"]) if "status" in r] == [7]
    assert [r["xactionId"].rsplit("-", 1)[1] for r in body["responses"]] == [
        str(i) for i in range(50)
    ]


def test_unknown_inlet_is_404(emulator: Emulator) -> None:
    answer = emulator.client.post("/collection/batch/" + "0" * 64, json={"messages": [{}]})
    assert answer.status_code == 404
    assert answer.json()["type"] == INLET_PROBLEM_TYPE


def test_unparsable_body_and_missing_messages_are_400(emulator: Emulator) -> None:
    p = provision(emulator.state)
    bad = emulator.client.post(p.batch_path, content=b"{not json", headers=p.flow_headers)
    assert bad.status_code == 400
    assert bad.json()["status"] == 400
    payloads: list[Any] = [{}, {"messages": []}, {"messages": {}}, []]
    for payload in payloads:
        answer = emulator.client.post(p.batch_path, json=payload, headers=p.flow_headers)
        assert answer.status_code == 400
        assert "'messages'" in answer.json()["report"]["message"]


def test_request_over_one_mebibyte_is_413(emulator: Emulator) -> None:
    p = provision(emulator.state)
    message = envelope(p, profile_record("1"))
    message["body"]["xdmEntity"]["person"]["name"]["firstName"] = ""
    body = orjson.dumps({"messages": [message]})
    padding = REQUEST_LIMIT - len(body) + 1
    message["body"]["xdmEntity"]["person"]["name"]["firstName"] = "x" * padding
    too_big = orjson.dumps({"messages": [message]})
    assert len(too_big) == REQUEST_LIMIT + 1
    answer = emulator.client.post(
        p.batch_path,
        content=too_big,
        headers={**p.flow_headers, "content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.json()["title"] == "Payload Too Large"
    message["body"]["xdmEntity"]["person"]["name"]["firstName"] = "x" * (padding - 1)
    at_limit = orjson.dumps({"messages": [message]})
    answer = emulator.client.post(
        p.batch_path,
        content=at_limit,
        headers={**p.flow_headers, "content-type": "application/json"},
    )
    assert answer.status_code == 207


def test_request_rate_limit_is_429(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(max_requests_per_s=3, max_messages_per_s=0)
    p = provision(emulator.state)
    statuses = [
        post_batch(emulator, p, [envelope(p, profile_record())]).status_code for _ in range(6)
    ]
    assert statuses[:3] == [207, 207, 207]
    assert 429 in statuses[3:]
    refused = post_batch(emulator, p, [envelope(p, profile_record())])
    if refused.status_code == 429:
        assert refused.json()["report"]["message"] == (
            "Too many requests within specified time duration"
        )


def test_message_rate_limit_is_429(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(max_requests_per_s=0, max_messages_per_s=10)
    p = provision(emulator.state)
    messages = [envelope(p, profile_record(str(i))) for i in range(8)]
    assert post_batch(emulator, p, messages).status_code == 207
    answer = post_batch(emulator, p, messages)
    assert answer.status_code == 429
    assert answer.json()["status"] == 429
    # The refused request took none of the budget: two messages still fit.
    assert post_batch(emulator, p, messages[:2]).status_code == 207


def test_authenticated_inlet_wants_a_token(emulator: Emulator) -> None:
    p = provision(emulator.state, authenticated=True)
    batch = [envelope(p, profile_record())]
    missing = post_batch(emulator, p, batch, headers=p.flow_headers)
    assert missing.status_code == 401
    body = missing.json()
    assert body["type"] == AUTH_PROBLEM_TYPE
    assert body["status"] == "401"  # a string in AEP's body
    assert body["title"] == "Authorization"
    assert body["report"]["message"].endswith("Ims service token is empty")
    invalid = post_batch(
        emulator, p, batch, headers={**p.flow_headers, "Authorization": "Bearer forged"}
    )
    assert invalid.status_code == 403
    assert invalid.json()["status"] == "403"
    good = post_batch(
        emulator,
        p,
        batch,
        headers={**p.flow_headers, "Authorization": f"Bearer {emulator.token()}"},
    )
    assert good.status_code == 207


def test_unauthenticated_inlet_needs_no_headers(emulator: Emulator) -> None:
    p = provision(emulator.state)
    answer = emulator.client.post(p.batch_path, json={"messages": [envelope(p, profile_record())]})
    assert answer.status_code == 207
    assert "status" not in answer.json()["responses"][0]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda m: m.pop("header"), "The 'header' field is mandatory"),
        (lambda m: m.pop("body"), "The 'body' field is mandatory"),
        (lambda m: m["body"].pop("xdmEntity"), "The 'xdmEntity' field is mandatory"),
        (lambda m: m["header"].pop("schemaRef"), "Message has unknown xdm format"),
        (
            lambda m: m["header"]["schemaRef"].update(contentType="application/json"),
            "Message has unknown xdm format",
        ),
        (
            lambda m: m["header"]["schemaRef"].update(id="https://ns.adobe.com/x/schemas/nope"),
            "Message has unknown xdm format",
        ),
        (
            lambda m: m["header"].update(imsOrgId="OTHER@AdobeOrg"),
            "Message has an absent or wrong ims org in the header",
        ),
        (lambda m: m["header"].update(flowId="nope"), "unknown flow id"),
        (lambda m: m["header"].update(datasetId="0" * 24), "does not match the dataset"),
        (
            lambda m: m["header"].update(operations={"data": "upsert"}),
            "invalid operations",
        ),
    ],
)
def test_envelope_errors_fail_their_message_only(
    emulator: Emulator, mutate: Any, expected: str
) -> None:
    p = provision(emulator.state)
    broken = envelope(p, profile_record("2"))
    mutate(broken)
    body = emulator.client.post(
        p.batch_path, json={"messages": [envelope(p, profile_record("1")), broken]}
    ).json()
    ok, failed = body["responses"]
    assert "status" not in ok
    assert failed["status"] == 400
    assert expected in failed["message"]
    if "inletId" in failed["message"]:
        assert failed["message"].startswith(f"inletId: [{p.inlet_id}] imsOrgId: [")
    emulator.state.worker.wait_idle()
    stats = emulator.client.get("/_emulator/stats").json()["messages"]
    assert (stats["received"], stats["rejected"], stats["accepted"]) == (2, 1, 1)
    failures = [
        orjson.loads(line) for line in emulator.client.get("/_emulator/failures").text.splitlines()
    ]
    assert [f["stage"] for f in failures] == ["envelope"]
    assert failures[0]["errors"][0]["message"] == failed["message"]


def test_imsorg_may_be_absent(emulator: Emulator) -> None:
    p = provision(emulator.state)
    message = envelope(p, profile_record())
    del message["header"]["imsOrgId"]
    assert "status" not in post_batch(emulator, p, [message]).json()["responses"][0]


def test_routing_by_flow_id_header_query_or_message(emulator: Emulator) -> None:
    p = provision(emulator.state)
    assert p.flow is not None
    bare = envelope(p, profile_record(), dataset=False)
    del bare["header"]["flowId"]
    by_header = emulator.client.post(
        p.batch_path, json={"messages": [bare]}, headers=p.flow_headers
    )
    by_query = emulator.client.post(
        p.batch_path, json={"messages": [bare]}, params={"x-adobe-flow-id": p.flow.id}
    )
    in_message = envelope(p, profile_record(), dataset=False)
    by_message = emulator.client.post(p.batch_path, json={"messages": [in_message]})
    for answer in (by_header, by_query, by_message):
        assert "status" not in answer.json()["responses"][0]
    without = emulator.client.post(p.batch_path, json={"messages": [bare]}).json()
    assert "Message has no flow id" in without["responses"][0]["message"]
    emulator.state.worker.wait_idle()
    records = [orjson.loads(x) for x in emulator.client.get("/_emulator/records").text.splitlines()]
    assert {r["flowId"] for r in records} == {p.flow.id}
    assert {r["datasetId"] for r in records} == {p.dataset.id}


def test_connection_without_dataflow_routes_by_dataset(emulator: Emulator) -> None:
    p = provision(emulator.state, flow_spec=None)
    ok = post_batch(emulator, p, [envelope(p, profile_record())]).json()["responses"][0]
    assert "status" not in ok
    no_dataset = post_batch(emulator, p, [envelope(p, profile_record(), dataset=False)])
    assert "no dataset id" in no_dataset.json()["responses"][0]["message"]
    unknown = envelope(p, profile_record(), header_extra={"datasetId": "f" * 24})
    assert (
        "unknown dataset id" in post_batch(emulator, p, [unknown]).json()["responses"][0]["message"]
    )
    emulator.state.worker.wait_idle()
    record = orjson.loads(emulator.client.get("/_emulator/records").text.splitlines()[0])
    assert record["flowId"] is None
    assert record["datasetId"] == p.dataset.id


def test_require_flow_id_refuses_dataset_routing(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(require_flow_id=True)
    p = provision(emulator.state, flow_spec=None)
    answer = post_batch(emulator, p, [envelope(p, profile_record())]).json()
    assert "Message has no flow id" in answer["responses"][0]["message"]


def test_operations_need_a_data_prep_flow(emulator: Emulator) -> None:
    passthrough = provision(emulator.state, flow_spec=PASSTHROUGH_FLOW_SPEC, name="pass")
    answer = post_batch(
        emulator, passthrough, [envelope(passthrough, profile_record(), operation="delete")]
    )
    assert "Data Prep" in answer.json()["responses"][0]["message"]
    no_flow = provision(emulator.state, flow_spec=None, name="noflow")
    answer = post_batch(emulator, no_flow, [envelope(no_flow, profile_record(), operation="merge")])
    assert answer.json()["responses"][0]["status"] == 400
    prep = provision(emulator.state, name="prep")
    answer = post_batch(emulator, prep, [envelope(prep, profile_record(), operation="delete")])
    assert "status" not in answer.json()["responses"][0]


def test_timestamp_mode_refuses_operations(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(merge_mode="timestamp")
    p = provision(emulator.state)
    answer = post_batch(emulator, p, [envelope(p, profile_record(), operation="create")])
    assert "customer timestamp ordering" in answer.json()["responses"][0]["message"]
    plain = post_batch(emulator, p, [envelope(p, profile_record())])
    assert "status" not in plain.json()["responses"][0]


def test_warm_up_acknowledges_and_loses(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(dataflow_warmup_s=60)
    p = provision(emulator.state)
    answer = post_batch(emulator, p, [envelope(p, profile_record(str(i))) for i in range(3)])
    assert all("status" not in r for r in answer.json()["responses"])
    emulator.state.worker.wait_idle()
    stats = emulator.client.get("/_emulator/stats").json()["messages"]
    assert stats["dropped_warmup"] == 3
    assert stats["accepted"] == 0
    assert emulator.client.get("/_emulator/records").text == ""
    failures = [
        orjson.loads(x) for x in emulator.client.get("/_emulator/failures").text.splitlines()
    ]
    assert {f["stage"] for f in failures} == {"warmup"}
    # Once the flow's warm-up has passed, messages are kept.
    assert p.flow is not None
    p.flow.updated_ms -= 61_000
    post_batch(emulator, p, [envelope(p, profile_record("9"))])
    emulator.state.worker.wait_idle()
    assert emulator.client.get("/_emulator/stats").json()["messages"]["accepted"] == 1


def test_unknown_sandbox_is_refused_with_its_name(emulator: Emulator) -> None:
    p = provision(emulator.state)
    answer = post_batch(
        emulator, p, [envelope(p, profile_record())], headers={"x-sandbox-name": "staging"}
    )
    assert answer.status_code == 403
    assert "[staging]" in answer.json()["report"]["message"]


def test_configured_sandbox_is_accepted(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(sandboxes=("staging",))
    p = provision(emulator.state)
    answer = post_batch(
        emulator,
        p,
        [envelope(p, profile_record())],
        headers={**p.flow_headers, "x-sandbox-name": "staging"},
    )
    assert answer.status_code == 207
