"""HttpInletSender: request shape and every branch of docs/DESIGN.md §6 "AEP answers"."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, Literal

import httpx
import orjson
import pytest
from structlog.testing import capture_logs

from consumer.aep.envelope import EnvelopeBuilder
from consumer.aep.ims import ImsUnavailable
from consumer.aep.inlet_client import (
    HttpInletSender,
    batch_url,
    make_http_client,
    parse_retry_after,
)
from consumer.aep.protocol import (
    Accepted,
    AepConfigurationFault,
    AepProtocolError,
    BatchResult,
    InletSender,
    OutgoingRecord,
    Rejected,
    RetryMessage,
    RetryRequest,
    SendResult,
    SplitRequest,
)
from consumer.config.settings import DeliverySettings

INLET = "https://dcs.test/collection/abc123"
BATCH = "https://dcs.test/collection/batch/abc123"
EMAIL = "john.doe@example.com"

Handler = Callable[[httpx.Request], Any]


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


class FakeTokens:
    def __init__(self, error: Exception | None = None) -> None:
        self.issued = 0
        self.current: str | None = None
        self.invalidated: list[str] = []
        self.error = error

    async def token(self) -> str:
        if self.error is not None:
            raise self.error
        if self.current is None:
            self.issued += 1
            self.current = f"token-{self.issued}-SECRETISH"
        return self.current

    def invalidate(self, token: str) -> None:
        self.invalidated.append(token)
        if token == self.current:
            self.current = None


class Inlet:
    """A scripted inlet: each request takes the next answer (a callable of the request)."""

    def __init__(self, *answers: Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)(request)
        if asyncio.iscoroutine(answer):
            answer = await answer
        assert isinstance(answer, httpx.Response)
        return answer


def records(count: int, op: Literal["create", "delete"] = "create") -> list[OutgoingRecord]:
    return [
        OutgoingRecord(key=("k", i), entity_json=orjson.dumps({"_id": str(i)}), operation=op)
        for i in range(count)
    ]


def sender(
    inlet: Inlet, tokens: FakeTokens | None = None, timeout_s: float = 5.0
) -> tuple[HttpInletSender, FakeTokens]:
    tokens = tokens or FakeTokens()
    envelope = EnvelopeBuilder(
        schema_id="https://ns.adobe.com/t/schemas/s1",
        org_id="ORG@AdobeOrg",
        dataset_id="ds-1",
        flow_id="flow-1",
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(inlet))
    built = HttpInletSender(
        client,
        tokens,
        envelope,
        inlet_url=INLET,
        org_id="ORG@AdobeOrg",
        api_key="client-1",
        sandbox="dev",
        flow_id="flow-1",
        timeout_s=timeout_s,
    )
    conforms: InletSender = built  # mypy checks that the class implements the protocol
    assert conforms is built
    return built, tokens


def multi_status(entries: list[Any], headers: dict[str, str] | None = None) -> Handler:
    body = {
        "inletId": "abc123",
        "batchId": "1565638336649:1750:244",
        "receivedTimeMs": 1565638336705,
        "responses": entries,
    }
    return lambda request: httpx.Response(207, json=body, headers=headers)


def ok(count: int) -> Handler:
    return multi_status(
        [{"xactionId": f"9341f8eb-494a-4c89-9879-4d06a58d2dc7-{i}"} for i in range(count)]
    )


def status(code: int, headers: dict[str, str] | None = None, body: Any = None) -> Handler:
    return lambda request: httpx.Response(code, headers=headers, json=body)


def send(inlet: Inlet, batch: Sequence[OutgoingRecord], **kwargs: Any) -> SendResult:
    s, _ = sender(inlet, **kwargs)
    result: SendResult = run(s.send(batch))
    return result


# --- request shape ---------------------------------------------------------------------------


def test_request_goes_to_the_batch_url_with_every_header_and_the_exact_body() -> None:
    inlet = Inlet(ok(3))
    s, _ = sender(inlet)
    batch = records(3)
    result = run(s.send(batch))
    assert isinstance(result, BatchResult)
    (request,) = inlet.requests
    assert str(request.url) == BATCH
    assert request.method == "POST"
    assert request.headers["authorization"] == "Bearer token-1-SECRETISH"
    assert request.headers["x-gw-ims-org-id"] == "ORG@AdobeOrg"
    assert request.headers["x-api-key"] == "client-1"
    assert request.headers["x-sandbox-name"] == "dev"
    assert request.headers["x-adobe-flow-id"] == "flow-1"
    assert request.headers["content-type"] == "application/json"
    assert len(request.content) == s.request_size(batch)
    messages = orjson.loads(request.content)["messages"]
    assert [m["body"]["xdmEntity"]["_id"] for m in messages] == ["0", "1", "2"]


def test_empty_batch_sends_nothing() -> None:
    inlet = Inlet()
    assert send(inlet, []) == BatchResult([])
    assert inlet.requests == []


@pytest.mark.parametrize(
    ("inlet_url", "expected"),
    [
        ("https://dcs.adobedc.net/collection/abc", "https://dcs.adobedc.net/collection/batch/abc"),
        ("https://dcs.adobedc.net/collection/abc/", "https://dcs.adobedc.net/collection/batch/abc"),
        ("http://127.0.0.1:8765/collection/batch/x", "http://127.0.0.1:8765/collection/batch/x"),
        ("http://h/prefix/collection/x", "http://h/prefix/collection/batch/x"),
    ],
)
def test_batch_url(inlet_url: str, expected: str) -> None:
    assert batch_url(inlet_url) == expected


@pytest.mark.parametrize("inlet_url", ["https://dcs.test/other/abc", "ftp://h/collection/x"])
def test_a_url_that_is_no_inlet_is_a_configuration_fault(inlet_url: str) -> None:
    with pytest.raises(AepConfigurationFault, match="PROFILE_SYNC_AEP_INLET_URL"):
        batch_url(inlet_url)


# --- 207 entries -----------------------------------------------------------------------------


def test_all_accepted_sink_shape() -> None:
    batch = records(3)
    result = send(Inlet(ok(3)), batch)
    assert result == BatchResult(
        [Accepted(("k", i), f"9341f8eb-494a-4c89-9879-4d06a58d2dc7-{i}") for i in range(3)]
    )


def test_docs_shape_status_code_without_xaction_id() -> None:
    entries = [
        {"xactionId": "1565638336649:1750:244:0"},
        {"statusCode": 400, "message": f"string [{EMAIL}] is not a valid email"},
        {"xactionId": "1565638336649:1750:244:2"},
    ]
    result = send(Inlet(multi_status(entries)), records(3))
    assert isinstance(result, BatchResult)
    first, second, third = result.outcomes
    assert first == Accepted(("k", 0), "1565638336649:1750:244:0")
    assert isinstance(second, Rejected)
    assert second.status == 400
    # Only what is not AEP's free text: no xactionId in this shape, the keyword from the wording.
    assert second.detail == {"status": 400, "keyword": "format"}
    assert third == Accepted(("k", 2), "1565638336649:1750:244:2")


def test_each_entry_classified() -> None:
    x = "9341f8eb-494a-4c89-9879-4d06a58d2dc7-"
    entries = [
        {"xactionId": x + "0"},
        {"xactionId": x + "1", "status": 200},
        {"xactionId": x + "2", "status": 429, "message": "Too many requests"},
        {"xactionId": x + "3", "status": 503},
        {
            "xactionId": x + "4",
            "status": 400,
            "message": f"extraneous key ['{EMAIL}'] is not permitted",
        },
        {"xactionId": x + "5", "status": "422", "message": 'value "Jane" rejected'},
        {"xactionId": x + "6", "status": 413, "message": "Record size [120000] too large"},
        {"xactionId": x + "7", "status": None},
    ]
    result = send(Inlet(multi_status(entries, {"Retry-After": "7"})), records(8))
    assert isinstance(result, BatchResult)
    o = result.outcomes
    assert o[0] == Accepted(("k", 0), x + "0")
    assert o[1] == Accepted(("k", 1), x + "1")
    assert o[2] == RetryMessage(("k", 2), 429, 7.0)
    assert o[3] == RetryMessage(("k", 3), 503, 7.0)
    assert o[4] == Rejected(
        ("k", 4),
        400,
        {"status": 400, "xactionId": x + "4", "keyword": "additionalProperties"},
    )
    assert o[5] == Rejected(("k", 5), 422, {"status": 422, "xactionId": x + "5"})
    assert isinstance(o[6], Rejected)
    assert o[6].status == 413
    assert o[7] == Accepted(("k", 7), x + "7")
    assert EMAIL not in repr(result)


_ALL_ENVELOPE_SETTINGS = ("_SCHEMA_ID", "_DATASET_ID", "_FLOW_ID", "_ORG_ID")


@pytest.mark.parametrize(
    ("message", "settings"),
    [
        (
            "The 'header' field is mandatory. Provide a valid 'header' value and try again.",
            ["_SCHEMA_ID", "_DATASET_ID", "_FLOW_ID", "_ORG_ID"],
        ),
        ("inletId: [abc] imsOrgId: [ORG@AdobeOrg] Message has unknown xdm format", ["_SCHEMA_ID"]),
        (
            "inletId: [abc] imsOrgId: [X@AdobeOrg] "
            "Message has an absent or wrong ims org in the header",
            ["_ORG_ID"],
        ),
        ("Dataset [ds-9] does not exist", ["_DATASET_ID"]),
        ("Unknown flowId [f-1] for this inlet", ["_FLOW_ID"]),
        (
            "schemaRef [https://ns.adobe.com/x] does not match the dataset",
            ["_SCHEMA_ID", "_DATASET_ID"],
        ),
    ],
)
def test_entry_naming_the_envelope_is_a_configuration_fault(
    message: str, settings: list[str]
) -> None:
    entries = [{"xactionId": "u-0"}, {"xactionId": "u-1", "status": 400, "message": message}]
    with pytest.raises(AepConfigurationFault) as caught:
        send(Inlet(multi_status(entries)), records(2))
    text = str(caught.value)
    named = {name for name in _ALL_ENVELOPE_SETTINGS if "PROFILE_SYNC_AEP" + name in text}
    assert named == set(settings)
    assert "ds-9" not in text
    assert "f-1" not in text


@pytest.mark.parametrize(
    "message",
    [
        f"inletId: [abc] imsOrgId: [ORG@AdobeOrg] string [{EMAIL}] is not a valid email",
        "string [flow-dataset@header.example.com] is not a valid email",
        "expected type: String, found: Long",
        "",
    ],
)
def test_record_level_4xx_is_rejected_even_when_values_look_like_envelope_words(
    message: str,
) -> None:
    entries = [{"xactionId": "u-0", "status": 400, "message": message}]
    result = send(Inlet(multi_status(entries)), records(1))
    assert isinstance(result, BatchResult)
    (outcome,) = result.outcomes
    assert isinstance(outcome, Rejected)
    assert "example.com" not in str(outcome.detail)


# --- whole request ---------------------------------------------------------------------------


def test_413_asks_for_a_split() -> None:
    assert send(Inlet(status(413)), records(2)) == SplitRequest()


@pytest.mark.parametrize("code", [401, 403])
def test_auth_refusal_refreshes_once_and_resends(code: int) -> None:
    inlet = Inlet(status(code), ok(2))
    s, tokens = sender(inlet)
    with capture_logs() as logs:
        result = run(s.send(records(2)))
    assert isinstance(result, BatchResult)
    assert tokens.invalidated == ["token-1-SECRETISH"]
    assert [r.headers["authorization"] for r in inlet.requests] == [
        "Bearer token-1-SECRETISH",
        "Bearer token-2-SECRETISH",
    ]
    assert inlet.requests[0].content == inlet.requests[1].content
    assert "SECRETISH" not in repr(logs)


@pytest.mark.parametrize(("first", "second"), [(401, 401), (403, 403), (401, 403)])
def test_auth_refusal_after_refresh_is_a_configuration_fault(first: int, second: int) -> None:
    inlet = Inlet(status(first), status(second))
    with pytest.raises(AepConfigurationFault) as caught:
        send(inlet, records(1))
    assert "PROFILE_SYNC_AEP_CLIENT_ID" in str(caught.value)
    assert "SECRETISH" not in str(caught.value)
    assert len(inlet.requests) == 2


def test_auth_refusal_then_server_error_is_a_retry() -> None:
    result = send(Inlet(status(401), status(503)), records(1))
    assert result == RetryRequest("http_503", 503, None)


def test_404_is_a_configuration_fault_naming_the_inlet_url() -> None:
    with pytest.raises(AepConfigurationFault, match="PROFILE_SYNC_AEP_INLET_URL"):
        send(Inlet(status(404)), records(1))


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses(code: int) -> None:
    result = send(Inlet(status(code, {"Retry-After": "12"})), records(1))
    assert result == RetryRequest(f"http_{code}", code, 12.0)


def test_retry_after_http_date_and_cap() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    result = send(Inlet(status(503, {"Retry-After": later})), records(1))
    assert isinstance(result, RetryRequest)
    assert result.retry_after_s is not None
    assert 55 <= result.retry_after_s <= 60
    capped = send(Inlet(status(429, {"Retry-After": "100000"})), records(1))
    assert isinstance(capped, RetryRequest)
    assert capped.retry_after_s == 300.0


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("eof")],
)
def test_transport_errors_are_retries(error: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    result = send(Inlet(fail), records(1))
    assert isinstance(result, RetryRequest)
    assert result.status is None


def test_the_whole_send_is_bounded_by_the_timeout() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(207)

    result = send(Inlet(slow), records(1), timeout_s=0.05)
    assert result == RetryRequest("timeout", None, None)


@pytest.mark.parametrize("code", [400, 405, 409, 415, 422])
def test_other_4xx_is_our_bug(code: int) -> None:
    # Unquoted, as AEP sometimes writes them: no scrubbing could find these, so nothing is kept.
    text = f"XDM-1528-400 bad value Jane Doe +1 415 555 0100 {EMAIL} expected type: String"
    body = {"type": "x", "status": code, "title": "Bad", "report": {"message": text}}
    with pytest.raises(AepProtocolError) as caught:
        send(Inlet(status(code, body=body)), records(1))
    message = str(caught.value)
    assert str(code) in message
    assert "code XDM-1528-400, keyword type" in message
    for personal in (EMAIL, "Jane", "Doe", "555"):
        assert personal not in message


def test_ims_unavailable_is_a_retry_and_ims_refusal_propagates() -> None:
    result = send(Inlet(), records(1), tokens=FakeTokens(ImsUnavailable("ims_http_503", 503)))
    assert result == RetryRequest("ims_http_503", 503, None)
    with pytest.raises(AepConfigurationFault):
        send(Inlet(), records(1), tokens=FakeTokens(AepConfigurationFault("bad credentials")))


# --- unmatched 207 answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        ok(1),
        multi_status([{"xactionId": "u-1"}, {"xactionId": "u-0"}]),
        lambda request: httpx.Response(207, text="not json"),
        lambda request: httpx.Response(207, json={"inletId": "x"}),
        multi_status([{"xactionId": "u-0"}, "oops"]),
        multi_status([{"xactionId": "u-0"}, {"status": "bad"}]),
    ],
)
def test_unmatched_207_is_retried_once_then_our_bug(answer: Handler) -> None:
    inlet = Inlet(answer, answer)
    s, _ = sender(inlet)
    batch = records(2)
    first = run(s.send(batch))
    assert first == RetryRequest("result_mismatch", 207, None)
    with pytest.raises(AepProtocolError):
        run(s.send(batch))


def test_a_matched_answer_clears_the_mismatch_memory() -> None:
    bad = ok(1)
    inlet = Inlet(bad, ok(2), bad)
    s, _ = sender(inlet)
    batch = records(2)

    async def go() -> list[SendResult]:
        return [await s.send(batch) for _ in range(3)]

    first, second, third = run(go())
    assert isinstance(first, RetryRequest)
    assert isinstance(second, BatchResult)
    assert isinstance(third, RetryRequest)


def test_mismatch_memory_is_per_batch() -> None:
    inlet = Inlet(ok(1), ok(1))
    s, _ = sender(inlet)

    async def go() -> list[SendResult]:
        return [await s.send(records(2)), await s.send(records(3))]

    assert all(isinstance(r, RetryRequest) for r in run(go()))


class Handle:
    """A record handle that can be watched with a weak reference."""


def test_the_mismatch_memory_keeps_no_batch_alive() -> None:
    # A batch unmatched once and then split (413) is never matched again: its records must not
    # stay pinned by the memory of mismatches.
    inlet = Inlet(ok(1), status(413))
    s, _ = sender(inlet)
    handles = [Handle() for _ in range(2)]
    batch = [
        OutgoingRecord(h, orjson.dumps({"_id": str(i)}), "create") for i, h in enumerate(handles)
    ]
    watched = [weakref.ref(h) for h in handles]

    async def go(batch: list[OutgoingRecord]) -> list[SendResult]:
        return [await s.send(batch), await s.send(batch)]

    first, second = run(go(batch))
    assert isinstance(first, RetryRequest)
    assert isinstance(second, SplitRequest)
    del handles, batch
    gc.collect()
    assert [ref() for ref in watched] == [None, None]


# --- Retry-After parsing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("5", 5.0),
        ("2.5", 2.5),
        ("-3", 0.0),
        ("301", 300.0),
        ("nonsense", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_future_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp) == 42.0


def test_http_client_is_sized_for_the_in_flight_limit() -> None:
    client = make_http_client(DeliverySettings(max_in_flight_requests=4, aep_request_timeout_s=7))
    try:
        assert client.timeout.read == 7
        assert client.timeout.connect == 7
        assert not client.follow_redirects
    finally:
        run(client.aclose())
