"""The Platform request layer: headers, retries of transient answers, and refusals that name
the setting to fix without printing a secret or a token."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from consumer.aep.platform_http import (
    PlatformAccessError,
    PlatformError,
    PlatformHttp,
    PlatformUnavailable,
)
from consumer.config.settings import AepAuthSettings
from tests.support.leak_sweep import register_secret

TOKEN = "token-value-never-shown"
SECRET = register_secret("secret-value-never-shown", "AEP client secret of the Platform HTTP tests")


def auth() -> AepAuthSettings:
    return AepAuthSettings(
        aep_platform_url="https://platform.example",
        aep_client_id="client",
        aep_client_secret=SECRET,
        aep_org_id="ORG@AdobeOrg",
        aep_sandbox="dev",
    )


def layer(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[PlatformHttp, list[float]]:
    slept: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return PlatformHttp(client, auth(), lambda: TOKEN, sleep=slept.append), slept


def test_platform_headers_are_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    http, _ = layer(handler)
    http.request("POST", "/data/x", json_body={"a": 1}, accept="application/vnd.adobe.xed+json")
    headers = seen[0].headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["x-api-key"] == "client"
    assert headers["x-gw-ims-org-id"] == "ORG@AdobeOrg"
    assert headers["x-sandbox-name"] == "dev"
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/vnd.adobe.xed+json"
    assert str(seen[0].url) == "https://platform.example/data/x"


def test_transient_answers_are_retried_with_retry_after() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    attempts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) == 2:
            raise httpx.ConnectError("refused")
        return next(answers)

    http, slept = layer(handler)
    response = http.request("GET", "/data/x")
    assert response is not None
    assert response.json() == {"ok": True}
    assert len(attempts) == 4
    assert slept[0] >= 7  # Retry-After honoured


def test_gives_up_after_the_attempts() -> None:
    http, slept = layer(lambda request: httpx.Response(502))
    with pytest.raises(PlatformUnavailable, match="PROFILE_SYNC_AEP_PLATFORM_URL"):
        http.request("GET", "/data/x")
    assert len(slept) == 5


@pytest.mark.parametrize(
    ("status", "body", "setting"),
    [
        (
            401,
            {"error_code": "401013", "message": "Oauth token is not valid"},
            "PROFILE_SYNC_AEP_CLIENT_SECRET",
        ),
        (
            403,
            {"error_code": "403003", "message": "Api Key is invalid"},
            "PROFILE_SYNC_AEP_CLIENT_ID",
        ),
        (
            403,
            {"error_code": "403025", "message": "Profile is not valid"},
            "PROFILE_SYNC_AEP_ORG_ID",
        ),
        (403, {"detail": "Sandbox [dev] not found or not accessible"}, "PROFILE_SYNC_AEP_SANDBOX"),
        (403, {"title": "Forbidden"}, "PROFILE_SYNC_AEP_SANDBOX"),
    ],
)
def test_refusals_name_the_setting(status: int, body: dict[str, str], setting: str) -> None:
    http, slept = layer(lambda request: httpx.Response(status, json=body))
    with pytest.raises(PlatformAccessError) as caught:
        http.request("GET", "/data/x")
    message = str(caught.value)
    assert setting in message
    assert TOKEN not in message
    assert SECRET not in message
    assert slept == []  # never retried


def test_other_client_errors_carry_the_service_detail() -> None:
    body = {"title": "BadRequestError", "detail": "Title must be unique."}
    http, _ = layer(lambda request: httpx.Response(400, json=body))
    with pytest.raises(PlatformError, match="Title must be unique") as caught:
        http.request("POST", "/data/x", json_body={})
    assert not isinstance(caught.value, PlatformAccessError)


def test_404_is_none_when_allowed() -> None:
    http, _ = layer(lambda request: httpx.Response(404, json={"detail": "gone"}))
    assert http.request("GET", "/data/x", allow_404=True) is None
    with pytest.raises(PlatformError):
        http.request("GET", "/data/x")


def test_each_attempt_is_a_client_span_without_the_query(spans: InMemorySpanExporter) -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json={})])
    http, _ = layer(lambda request: next(answers))
    http.request("GET", "/data/foundation/schemaregistry/tenant/schemas", params=[("t", "Jane")])
    first, second = spans.get_finished_spans()
    assert (first.name, first.kind) == ("GET", SpanKind.CLIENT)
    a, b = dict(first.attributes or {}), dict(second.attributes or {})
    assert a["http.response.status_code"] == 503
    assert a["error.type"] == "503"
    assert "http.request.resend_count" not in a
    assert b["http.response.status_code"] == 200
    assert b["http.request.resend_count"] == 1
    assert b["url.full"].endswith("/data/foundation/schemaregistry/tenant/schemas")
    assert "Jane" not in str(a) + str(b)
