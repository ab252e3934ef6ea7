"""IMS access tokens for AEP (OAuth server-to-server, client_credentials).

One token per process, cached and refreshed ahead of its expiry so that requests never wait for
IMS in the steady state; `invalidate` drops it after a 401/403 so that the next `token()` fetches
a new one (docs/AEP.md §1). Neither the secret nor a token ever appears in an exception
message or a log event.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

import httpx
import orjson
import structlog

from consumer.aep.protocol import AepConfigurationFault
from consumer.config.settings import AepAuthSettings, variable

__all__ = ["ImsTokenProvider", "ImsUnavailable", "TokenProvider"]

_log = structlog.get_logger(__name__)

IMS_TOKEN_PATH: Final = "/ims/token/v3"  # noqa: S105 (a path, not a password)
# Refresh when 90 % of the lifetime has passed, and at least 5 minutes early when the lifetime
# allows it (half of it otherwise): IMS outages then cost nothing while the old token lasts.
_REFRESH_FRACTION: Final = 0.9
_MIN_LEAD_S: Final = 300.0
_REFRESH_RETRY_S: Final = 30.0
_CREDENTIALS_VARS: Final = f"{variable('aep_client_id')} and {variable('aep_client_secret')}"
# IMS error codes are short snake_case words; anything else is not echoed.
_ERROR_CODE: Final = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


class ImsUnavailable(Exception):
    """IMS could not be reached or failed (network, timeout, 408/429/5xx): retry later."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class TokenProvider(Protocol):
    """What the inlet client needs from a token source."""

    async def token(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


@dataclass(slots=True)
class _Cached:
    value: str = field(repr=False)
    refresh_at: float
    expires_at: float


class ImsTokenProvider:
    """Fetches, caches and refreshes the IMS access token.

    `token()` raises `AepConfigurationFault` when IMS refuses the credentials and
    `ImsUnavailable` when IMS cannot answer and no unexpired token is left.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: AepAuthSettings,
        *,
        timeout_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._url = str(settings.aep_ims_url).rstrip("/") + IMS_TOKEN_PATH
        self._client_id = settings.aep_client_id
        self._secret = settings.aep_client_secret  # SecretStr: unwrapped only into the request
        self._scopes = settings.aep_scopes
        self._timeout_s = timeout_s
        self._clock = clock
        self._cached: _Cached | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0  # tokens obtained, for metrics and tests

    def __repr__(self) -> str:
        return f"ImsTokenProvider(url={self._url!r})"

    async def token(self) -> str:
        cached = self._cached
        if cached is not None and self._clock() < cached.refresh_at:
            return cached.value
        async with self._lock:
            # Another task may have refreshed while this one waited for the lock.
            cached = self._cached
            now = self._clock()
            if cached is not None and now < cached.refresh_at:
                return cached.value
            try:
                self._cached = await self._fetch()
            except ImsUnavailable as exc:
                if cached is not None and now < cached.expires_at:
                    # Keep the valid token and try IMS again later, not on every request.
                    retry_at = now + min(_REFRESH_RETRY_S, (cached.expires_at - now) / 2)
                    self._cached = _Cached(cached.value, retry_at, cached.expires_at)
                    _log.warning("ims_refresh_failed_using_cached_token", reason=exc.reason)
                    return cached.value
                raise
            return self._cached.value

    def invalidate(self, token: str) -> None:
        """Drop `token` if it is still the cached one (a newer token is kept)."""
        if self._cached is not None and self._cached.value == token:
            self._cached = None

    async def _fetch(self) -> _Cached:
        started = self._clock()
        try:
            response = await self._client.post(
                self._url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._secret.get_secret_value(),
                    "scope": self._scopes,
                },
                headers={"Accept": "application/json"},
                timeout=self._timeout_s,
            )
        except httpx.TimeoutException:
            raise ImsUnavailable("ims_timeout") from None
        except httpx.TransportError as exc:
            raise ImsUnavailable(f"ims_unreachable ({type(exc).__name__})") from None
        status = response.status_code
        if status == 200:
            return self._parse_token(response.content, started)
        if status in (408, 429) or status >= 500:
            raise ImsUnavailable(f"ims_http_{status}", status)
        raise AepConfigurationFault(self._refusal_message(status, response.content))

    def _parse_token(self, content: bytes, started: float) -> _Cached:
        try:
            body = orjson.loads(content)
            value = body["access_token"]
            expires_in = float(body.get("expires_in", 86_399))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise ImsUnavailable("ims_malformed_answer") from None
        if not isinstance(value, str) or not value or expires_in <= 0:
            raise ImsUnavailable("ims_malformed_answer")
        lead = max(expires_in * (1 - _REFRESH_FRACTION), min(_MIN_LEAD_S, expires_in / 2))
        self.fetches += 1
        _log.info("ims_token_obtained", expires_in_s=round(expires_in))
        # Measured from the request's start, so that a slow IMS answer never overstates the life.
        return _Cached(value, started + expires_in - lead, started + expires_in)

    def _refusal_message(self, status: int, content: bytes) -> str:
        code = _error_code(content)
        if code == "invalid_scope":
            hint = f"check {variable('aep_scopes')}"
        elif status in (404, 405):
            hint = f"check {variable('aep_ims_url')}"
        else:
            hint = f"check {_CREDENTIALS_VARS}"
        shown = f" ({code})" if code else ""
        return f"IMS refused the token request with HTTP {status}{shown}: {hint}"


def _error_code(content: bytes) -> str | None:
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    if isinstance(code, str) and _ERROR_CODE.match(code):
        return code
    return None
