from __future__ import annotations

import asyncio
import time

from consumer.aep.rate_limit import ProcessRateLimit, RetryRateLimit


def test_requests_beyond_the_per_second_limit_wait() -> None:
    async def run() -> float:
        limit = ProcessRateLimit(requests_per_s=10, records_per_s=1_000_000)
        started = time.monotonic()
        for _ in range(20):
            await limit.acquire(1)
        return time.monotonic() - started

    assert asyncio.run(run()) >= 0.8  # 10 at once (a full bucket), then 10 a second


def test_records_beyond_the_per_second_limit_wait_and_big_batches_are_capped() -> None:
    async def run() -> float:
        limit = ProcessRateLimit(requests_per_s=1000, records_per_s=100)
        started = time.monotonic()
        await limit.acquire(500)  # more than the bucket holds: takes all of it
        await limit.acquire(50)
        return time.monotonic() - started

    assert 0.4 <= asyncio.run(run()) < 3.0


def test_retries_beyond_the_process_wide_limit_wait() -> None:
    async def run() -> float:
        limit = RetryRateLimit(retries_per_s=5)
        started = time.monotonic()
        await asyncio.gather(*(limit.acquire() for _ in range(10)))
        return time.monotonic() - started

    assert asyncio.run(run()) >= 0.8  # 5 at once, then 5 a second
