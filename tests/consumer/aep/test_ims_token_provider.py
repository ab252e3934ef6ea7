"""IMS token provider: caching, refresh ahead of expiry, invalidation, error mapping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from structlog.testing import capture_logs

from consumer.aep.ims import ImsTokenProvider, ImsUnavailable
from consumer.aep.protocol import AepConfigurationFault
from consumer.config.settings import AepAuthSettings

SECRET = "s3cr3t-VALUE-never-printed"
SCOPES = "openid,AdobeID,read_organizations"


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def settings() -> AepAuthSettings:
    return AepAuthSettings(
        aep_ims_url="https://ims.test",
        aep_client_id="client-1",
        aep_client_secret=SECRET,
        aep_org_id="ORG@AdobeOrg",
        aep_scopes=SCOPES,
    )


class FakeIms:
    """Answers token requests in turn from `answers`; records what it was sent."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.issued = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            return answer
        self.issued += 1
        return httpx.Response(
            200,
            json={
                "access_token": f"tok-{self.issued}",
                "token_type": "bearer",
                "expires_in": 86399,
            },
        )


def provider(
    ims: Callable[[httpx.Request], httpx.Response], clock: list[float] | None = None
) -> ImsTokenProvider:
    now = clock if clock is not None else [0.0]
    client = httpx.AsyncClient(transport=httpx.MockTransport(ims))
    return ImsTokenProvider(client, settings(), clock=lambda: now[0])


def test_posts_client_credentials_form_and_caches() -> None:
    ims = FakeIms()
    tokens = provider(ims)

    async def go() -> list[str]:
        return [await tokens.token() for _ in range(5)]

    assert run(go()) == ["tok-1"] * 5
    assert len(ims.requests) == 1
    request = ims.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://ims.test/ims/token/v3"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["client-1"],
        "client_secret": [SECRET],
        "scope": [SCOPES],
    }
    assert SECRET not in str(request.url)


@pytest.mark.parametrize(
    ("expires_in", "refresh_at"),
    [(86399, 86399 * 0.9), (600, 300), (100, 50)],
)
def test_refreshes_ahead_of_expiry(expires_in: int, refresh_at: float) -> None:
    issued = 0

    def ims(request: httpx.Request) -> httpx.Response:
        nonlocal issued
        issued += 1
        return httpx.Response(200, json={"access_token": f"t{issued}", "expires_in": expires_in})

    clock = [0.0]
    tokens = provider(ims, clock)
    assert run(tokens.token()) == "t1"
    clock[0] = refresh_at - 0.5
    assert run(tokens.token()) == "t1"
    clock[0] = refresh_at + 0.5
    assert run(tokens.token()) == "t2"


def test_failed_refresh_keeps_the_unexpired_token_then_gives_up_at_expiry() -> None:
    ims = FakeIms()
    clock = [0.0]
    tokens = provider(ims, clock)
    assert run(tokens.token()) == "tok-1"
    ims.answers = [httpx.Response(503), httpx.ConnectError("down")]
    clock[0] = 86399 * 0.95
    assert run(tokens.token()) == "tok-1"  # IMS 503, old token still valid
    assert len(ims.requests) == 2
    clock[0] += 10
    assert run(tokens.token()) == "tok-1"  # IMS is not asked again at once
    assert len(ims.requests) == 2
    clock[0] = 86400
    with pytest.raises(ImsUnavailable):
        run(tokens.token())
    assert run(tokens.token()) == "tok-2"  # IMS is back


def test_invalidate_drops_only_the_named_token() -> None:
    ims = FakeIms()
    tokens = provider(ims)
    first = run(tokens.token())
    tokens.invalidate(first)
    second = run(tokens.token())
    assert second != first
    tokens.invalidate(first)  # a late 401 for the old token keeps the new one
    assert run(tokens.token()) == second
    assert tokens.fetches == 2


def test_concurrent_callers_share_one_fetch() -> None:
    ims = FakeIms()
    tokens = provider(ims)

    async def go() -> list[str]:
        return await asyncio.gather(*(tokens.token() for _ in range(20)))

    assert set(run(go())) == {"tok-1"}
    assert len(ims.requests) == 1


@pytest.mark.parametrize(
    ("answer", "names"),
    [
        (
            httpx.Response(
                400, json={"error": "invalid_client", "error_description": f"bad {SECRET}"}
            ),
            ["PROFILE_SYNC_AEP_CLIENT_ID", "PROFILE_SYNC_AEP_CLIENT_SECRET", "invalid_client"],
        ),
        (
            httpx.Response(401, json={"error": "unauthorized_client"}),
            ["PROFILE_SYNC_AEP_CLIENT_ID", "PROFILE_SYNC_AEP_CLIENT_SECRET"],
        ),
        (httpx.Response(400, json={"error": "invalid_scope"}), ["PROFILE_SYNC_AEP_SCOPES"]),
        (httpx.Response(404, text="not here"), ["PROFILE_SYNC_AEP_IMS_URL"]),
        (
            httpx.Response(400, json={"error": f"weird {SECRET}"}),
            ["PROFILE_SYNC_AEP_CLIENT_SECRET"],
        ),
    ],
)
def test_refused_credentials_are_a_configuration_fault(
    answer: httpx.Response, names: list[str]
) -> None:
    tokens = provider(FakeIms(answer))
    with pytest.raises(AepConfigurationFault) as caught:
        run(tokens.token())
    text = str(caught.value)
    for name in names:
        assert name in text
    assert SECRET not in text
    assert SECRET not in repr(tokens)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500),
        httpx.Response(502),
        httpx.Response(429),
        httpx.Response(408),
        httpx.Response(200, text="<html>proxy</html>"),
        httpx.Response(200, json={"token_type": "bearer"}),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
    ],
)
def test_ims_failures_are_transient(answer: httpx.Response | Exception) -> None:
    tokens = provider(FakeIms(answer))
    with pytest.raises(ImsUnavailable) as caught:
        run(tokens.token())
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None


def test_no_secret_or_token_in_logs_or_state_repr() -> None:
    ims = FakeIms(httpx.Response(503))
    clock = [0.0]
    tokens = provider(ims, clock)
    with capture_logs() as logs:
        with pytest.raises(ImsUnavailable):
            run(tokens.token())
        token = run(tokens.token())
        clock[0] = 86399 * 0.95
        ims.answers = [httpx.ConnectError("down")]
        assert run(tokens.token()) == token
    assert logs  # the fetch and the failed refresh were logged
    text = repr(logs) + repr(tokens) + repr(vars(tokens))
    assert SECRET not in text
    assert token not in text
