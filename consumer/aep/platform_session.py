"""A Platform session for one-shot commands (`init`, `run`'s start-up lookups).

The IMS token comes from the runtime's provider (`consumer.aep.ims.ImsTokenProvider`, async),
fetched once: a one-shot command is over long before the token expires. Transient IMS failures
are retried by tenacity with the project's backoff formula; refused credentials surface as
`AepConfigurationFault` with the provider's message naming the settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import NoReturn

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from consumer.aep.backoff import retry_delay
from consumer.aep.ims import ImsTokenProvider, ImsUnavailable
from consumer.aep.platform_client import PlatformClient
from consumer.aep.platform_http import MAX_ATTEMPTS, PlatformHttp, PlatformUnavailable
from consumer.aep.tls import aep_ssl_context
from consumer.config.settings import AepAuthSettings, variable

__all__ = ["fetch_token", "platform_session"]


async def _token_once(auth: AepAuthSettings, timeout_s: float) -> str:
    async with httpx.AsyncClient(
        timeout=timeout_s, follow_redirects=False, verify=aep_ssl_context(auth.aep_ca_bundle)
    ) as client:
        return await ImsTokenProvider(client, auth, timeout_s=timeout_s).token()


def fetch_token(
    auth: AepAuthSettings,
    *,
    timeout_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """One access token; raises AepConfigurationFault (refused) or PlatformUnavailable."""
    retrying = Retrying(
        stop=stop_after_attempt(MAX_ATTEMPTS),
        wait=lambda state: retry_delay(state.attempt_number),
        retry=retry_if_exception_type(ImsUnavailable),
        sleep=sleep,
        retry_error_callback=_ims_unavailable,
    )
    token: str = retrying(lambda: asyncio.run(_token_once(auth, timeout_s)))
    return token


def _ims_unavailable(state: RetryCallState) -> NoReturn:
    assert state.outcome is not None
    error = state.outcome.exception()
    reason = error.reason if isinstance(error, ImsUnavailable) else repr(error)
    raise PlatformUnavailable(
        f"IMS did not issue a token after {state.attempt_number} attempts ({reason}); "
        f"check {variable('aep_ims_url')} or retry later"
    ) from None


@contextlib.contextmanager
def platform_session(
    auth: AepAuthSettings,
    *,
    timeout_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[PlatformClient]:
    """A PlatformClient with a fresh token, closed at the end of the block."""
    token = fetch_token(auth, timeout_s=timeout_s, sleep=sleep)
    with httpx.Client(
        timeout=timeout_s, follow_redirects=False, verify=aep_ssl_context(auth.aep_ca_bundle)
    ) as client:
        http = PlatformHttp(client, auth, lambda: token, timeout_s=timeout_s, sleep=sleep)
        yield PlatformClient(http)
