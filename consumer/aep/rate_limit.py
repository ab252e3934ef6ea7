"""The per-process AEP rate limit: the guardrail divided by the expected replicas
(docs/DESIGN.md §4, `PROFILE_SYNC_AEP_MAX_REQUESTS_PER_S`, `..._MAX_RECORDS_PER_S`)."""

from __future__ import annotations

from aiolimiter import AsyncLimiter


class ProcessRateLimit:
    """Two token buckets, requests and records per second. Create and use on the HTTP loop."""

    def __init__(self, requests_per_s: float, records_per_s: float) -> None:
        self._requests = AsyncLimiter(requests_per_s, 1.0)
        self._records = AsyncLimiter(records_per_s, 1.0)
        self._records_capacity = records_per_s

    async def acquire(self, records: int) -> None:
        await self._requests.acquire()
        # A bucket cannot hand out more than its capacity at once; bigger batches take it all.
        await self._records.acquire(min(float(records), self._records_capacity))


class RetryRateLimit:
    """The process-wide limit on retries (docs/DESIGN.md §6): however many batches fail at once,
    at most `retries_per_s` retried requests leave per second. Create and use on the HTTP loop."""

    def __init__(self, retries_per_s: float) -> None:
        self._limiter = AsyncLimiter(retries_per_s, 1.0)

    async def acquire(self) -> None:
        await self._limiter.acquire()
