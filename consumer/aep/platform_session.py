"""A Platform session for one-shot commands (`init`, `run`'s start-up lookups).

The IMS token comes from the runtime's provider (`consumer.aep.ims.ImsTokenProvider`, async),
fetched once: a one-shot command is over long before the token expires. Transient IMS failures
are retried with the project's backoff; refused credentials surface as
`AepConfigurationFault` with the provider's message naming the settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import time
from collections.abc import Callable, Iterator

import httpx

from consumer.aep.backoff import retry_delay
from consumer.aep.ims import ImsTokenProvider, ImsUnavailable
from consumer.aep.platform_client import PlatformClient
from consumer.aep.platform_http import MAX_ATTEMPTS, PlatformHttp, PlatformUnavailable
from consumer.config.settings import AepAuthSettings, variable

__all__ = ["fetch_token", "platform_session"]


@functools.cache
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle costs ~0.15 s; one context serves every client of the process.
    return httpx.create_ssl_context()


async def _token_once(auth: AepAuthSettings, timeout_s: float) -> str:
    async with httpx.AsyncClient(
        timeout=timeout_s, follow_redirects=False, verify=_tls()
    ) as client:
        return await ImsTokenProvider(client, auth, timeout_s=timeout_s).token()


def fetch_token(
    auth: AepAuthSettings,
    *,
    timeout_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """One access token; raises AepConfigurationFault (refused) or PlatformUnavailable."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return asyncio.run(_token_once(auth, timeout_s))
        except ImsUnavailable as exc:
            if attempt == MAX_ATTEMPTS:
                raise PlatformUnavailable(
                    f"IMS did not issue a token after {attempt} attempts ({exc.reason}); "
                    f"check {variable('aep_ims_url')} or retry later"
                ) from None
            sleep(retry_delay(attempt))
    raise AssertionError("unreachable")


@contextlib.contextmanager
def platform_session(
    auth: AepAuthSettings,
    *,
    timeout_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[PlatformClient]:
    """A PlatformClient with a fresh token, closed at the end of the block."""
    token = fetch_token(auth, timeout_s=timeout_s, sleep=sleep)
    with httpx.Client(timeout=timeout_s, follow_redirects=False, verify=_tls()) as client:
        http = PlatformHttp(client, auth, lambda: token, timeout_s=timeout_s, sleep=sleep)
        yield PlatformClient(http)
