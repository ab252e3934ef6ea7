"""One Platform API call (`https://platform.adobe.io/...`): headers, retries, error mapping.

Every call carries the four Platform headers (docs/AEP.md §1.3). Transient answers (408, 429,
5xx, timeouts, connection errors) are retried by tenacity with the project's backoff formula
(`consumer.aep.backoff.retry_delay`, Retry-After honoured; docs/DESIGN.md §6);
credential, organisation and sandbox refusals become `PlatformAccessError` naming the setting
to fix (docs/AEP.md §1.4). Messages never hold a token, the secret or a request body.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn

import httpx
import orjson
import structlog
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt

from consumer.aep.backoff import retry_delay
from consumer.aep.inlet_client import parse_retry_after
from consumer.aep.protocol import AepConfigurationFault
from consumer.aep.tls import certificate_failure, untrusted_certificate
from consumer.config.settings import AepAuthSettings, variable
from consumer.observability import tracing

__all__ = [
    "PlatformAccessError",
    "PlatformError",
    "PlatformHttp",
    "PlatformUnavailable",
]

_log = structlog.get_logger(__name__)

MAX_ATTEMPTS: Final = 6
_RETRYABLE: Final = frozenset({408, 429, 500, 502, 503, 504})
_CREDENTIALS: Final = f"{variable('aep_client_id')} and {variable('aep_client_secret')}"
_CLIENT_ID: Final = variable("aep_client_id")
_ORG_ID: Final = variable("aep_org_id")
_SANDBOX: Final = variable("aep_sandbox")
# Gateway error codes (docs/AEP.md §1.4) and the setting each points at.
_GATEWAY_HINTS: Final = {
    "401013": f"the access token was refused: check {_CREDENTIALS}",
    "403010": f"no access token was accepted: check {_CREDENTIALS}",
    "403000": f"the API key is missing: check {_CLIENT_ID}",
    "403003": f"the API key is invalid: check {_CLIENT_ID}",
    "400003": f"the organisation header is missing: check {_ORG_ID}",
    "403025": f"the credential does not belong to this organisation: check {_ORG_ID}",
    "403027": (
        f"the organisation is malformed or has no AEP product profile: check {_ORG_ID} and "
        "the credential's product profiles"
    ),
}


class PlatformError(Exception):
    """A Platform answer other than success, not transient. `detail` is the service's own
    explanation (problem `detail`/`title`, Flow Service `errorMessage`), which names
    resources and ids but no personal data: the init job sends none."""

    def __init__(self, method: str, path: str, status: int, detail: str) -> None:
        super().__init__(f"{method} {path} answered HTTP {status}: {detail}")
        self.method = method
        self.path = path
        self.status = status
        self.detail = detail


class PlatformAccessError(PlatformError):
    """401/403 or an unknown sandbox: the credentials, organisation or sandbox setting is wrong."""

    def __init__(self, method: str, path: str, status: int, hint: str) -> None:
        super().__init__(method, path, status, hint)
        self.hint = hint

    def __str__(self) -> str:
        return f"AEP refused access (HTTP {self.status}): {self.hint}"


class PlatformUnavailable(Exception):
    """Still failing after every retry (timeouts, connection errors, 408/429/5xx)."""


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def _detail(body: Mapping[str, Any]) -> str:
    for key in ("detail", "errorMessage", "message", "title", "error_description"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value[:500]
    report = body.get("report")
    if isinstance(report, Mapping) and isinstance(report.get("message"), str):
        return str(report["message"])[:500]
    return "no explanation in the answer"


def access_hint(status: int, body: Mapping[str, Any], sandbox: str) -> str | None:
    """What to fix for a 401/403 (or a refused sandbox), or None when it is not an access
    problem (e.g. a 400 about the request itself)."""
    code = str(body.get("error_code", ""))
    if code in _GATEWAY_HINTS:
        return _GATEWAY_HINTS[code]
    text = _detail(body).lower()
    if "sandbox" in text and status in (400, 403, 404):
        return f"the sandbox {sandbox!r} does not exist or is not accessible: check {_SANDBOX}"
    if status == 401:
        return f"the access token was refused: check {_CREDENTIALS}"
    if status == 403:
        return (
            f"the credential may not use this API: check {_CREDENTIALS}, {_ORG_ID}, {_SANDBOX} "
            "and the credential's product profiles"
        )
    return None


@dataclass(frozen=True, slots=True)
class _Transient:
    """An answer worth retrying: why, and the server's `Retry-After` in seconds if it sent one."""

    reason: str
    retry_after_s: float | None = None


def _transient(state: RetryCallState) -> _Transient:
    assert state.outcome is not None
    answer = state.outcome.result()
    assert isinstance(answer, _Transient)
    return answer


def _wait(state: RetryCallState) -> float:
    # The project's one backoff formula, which also honours Retry-After (docs/DESIGN.md §6).
    return retry_delay(state.attempt_number, _transient(state).retry_after_s)


def _log_retry(method: str, path: str, state: RetryCallState) -> None:
    delay = state.next_action.sleep if state.next_action is not None else None
    reason = _transient(state).reason
    _log.warning("platform_retry", method=method, path=path, reason=reason, delay_s=delay)


def _unavailable(method: str, path: str, state: RetryCallState) -> NoReturn:
    raise PlatformUnavailable(
        f"{method} {path}: AEP did not answer after {state.attempt_number} attempts "
        f"({_transient(state).reason}); check {variable('aep_platform_url')} or retry later"
    )


class PlatformHttp:
    """Sends Platform requests with the credential's headers; see the module docstring."""

    def __init__(
        self,
        client: httpx.Client,
        auth: AepAuthSettings,
        token: Callable[[], str],
        *,
        timeout_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._client = client
        self._base = str(auth.aep_platform_url).rstrip("/")
        self._token = token
        self._sandbox = auth.aep_sandbox
        self._headers = {
            "x-api-key": auth.aep_client_id,
            "x-gw-ims-org-id": auth.aep_org_id,
            "x-sandbox-name": auth.aep_sandbox,
        }
        self._timeout_s = timeout_s
        self._sleep = sleep
        self._max_attempts = max_attempts

    def __repr__(self) -> str:
        return f"PlatformHttp(base={self._base!r}, sandbox={self._sandbox!r})"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        json_body: Any = None,
        accept: str = "application/json",
        content_type: str = "application/json",
        extra_headers: Mapping[str, str] | None = None,
        allow_404: bool = False,
    ) -> httpx.Response | None:
        """The successful answer; None for a 404 when `allow_404`. Raises PlatformError,
        PlatformAccessError or PlatformUnavailable."""
        headers = {**self._headers, "Accept": accept, **(extra_headers or {})}
        content = None
        if json_body is not None:
            headers["Content-Type"] = content_type
            content = orjson.dumps(json_body)
        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=_wait,
            retry=retry_if_result(lambda answer: isinstance(answer, _Transient)),
            sleep=self._sleep,
            before_sleep=functools.partial(_log_retry, method, path),
            retry_error_callback=functools.partial(_unavailable, method, path),
        )
        attempts = itertools.count()
        answer = retrying(
            lambda: self._traced_send(method, path, params, content, headers, next(attempts))
        )
        assert isinstance(answer, httpx.Response)  # the last transient one raised in `_unavailable`
        return self._check(method, path, answer, allow_404)

    def _traced_send(
        self,
        method: str,
        path: str,
        params: list[tuple[str, str]] | None,
        content: bytes | None,
        headers: dict[str, str],
        resend_count: int,
    ) -> httpx.Response | _Transient:
        """One attempt as one HTTP client span; `url.full` without the query (it can hold
        titles)."""
        attributes = tracing.http_client_attributes(method, self._base + path)
        if resend_count:
            attributes["http.request.resend_count"] = resend_count
        with tracing.TRACER.start_as_current_span(
            method, kind=SpanKind.CLIENT, attributes=attributes, record_exception=False
        ) as span:
            answer = self._send(method, path, params, content, headers)
            if isinstance(answer, httpx.Response):
                tracing.record_status(span, answer.status_code)
            elif answer.reason.startswith("HTTP "):
                tracing.record_status(span, int(answer.reason.removeprefix("HTTP ")))
            else:  # a timeout or a connection error: no answer
                span.set_attribute("error.type", answer.reason.split(" ")[0])
                span.set_status(trace.StatusCode.ERROR)
            return answer

    def _send(
        self,
        method: str,
        path: str,
        params: list[tuple[str, str]] | None,
        content: bytes | None,
        headers: dict[str, str],
    ) -> httpx.Response | _Transient:
        headers["Authorization"] = f"Bearer {self._token()}"
        try:
            response = self._client.request(
                method,
                self._base + path,
                params=tuple(params or ()),
                content=content,
                headers=headers,
                timeout=self._timeout_s,
            )
        except httpx.TimeoutException:
            return _Transient("timeout")
        except httpx.TransportError as exc:
            untrusted = certificate_failure(exc)
            if untrusted is not None:
                raise AepConfigurationFault(untrusted_certificate(self._base, untrusted)) from None
            return _Transient(f"connection error ({type(exc).__name__})")
        if response.status_code in _RETRYABLE:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return _Transient(f"HTTP {response.status_code}", retry_after)
        return response

    def _check(
        self, method: str, path: str, response: httpx.Response, allow_404: bool
    ) -> httpx.Response | None:
        status = response.status_code
        if status < 300:
            return response
        if status == 404 and allow_404:
            return None
        body = _error_body(response)
        hint = access_hint(status, body, self._sandbox)
        if hint is not None:
            raise PlatformAccessError(method, path, status, hint)
        raise PlatformError(method, path, status, _detail(body))
