"""The circuit breaker: opens after consecutive failures, one probe per back-off interval while
open, closes on the first probe that gets through."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from consumer.aep.circuit_breaker import CircuitBreaker


def _fixed(seconds: float) -> Callable[[int, float | None], float]:
    return lambda attempt, retry_after: retry_after if retry_after is not None else seconds


def test_opens_only_after_the_threshold_of_consecutive_failures() -> None:
    breaker = CircuitBreaker(3, delay=_fixed(0.1))
    breaker.failed(False)
    breaker.failed(False)
    breaker.succeeded(False)  # a success in between resets the count
    breaker.failed(False)
    breaker.failed(False)
    assert not breaker.is_open
    breaker.failed(False)
    assert breaker.is_open
    assert breaker.opened == 1


def test_closed_admits_at_once_without_a_probe() -> None:
    breaker = CircuitBreaker(1)
    assert asyncio.run(breaker.admit()) is False


def test_while_open_one_probe_per_interval_and_the_others_wait_until_it_succeeds() -> None:
    async def run() -> tuple[list[tuple[float, bool | None]], int]:
        breaker = CircuitBreaker(1, delay=_fixed(0.3))
        breaker.failed(False)  # open: first probe in 0.3 s
        started = time.monotonic()
        admitted: list[tuple[float, bool | None]] = []
        failures_left = [1]

        async def request() -> None:
            probe = await breaker.admit()
            admitted.append((time.monotonic() - started, probe))
            if probe:
                await asyncio.sleep(0.05)
                if failures_left[0]:
                    failures_left[0] -= 1
                    breaker.failed(True)  # next probe 0.3 s later
                    # This request is retried later; it waits like the others.
                    probe = await breaker.admit()
                    admitted.append((time.monotonic() - started, probe))
                    await asyncio.sleep(0.05)
                breaker.succeeded(bool(probe))

        await asyncio.gather(*(request() for _ in range(5)))
        return admitted, breaker.probes

    admitted, probes = asyncio.run(run())
    assert probes == 2
    probe_times = [t for t, probe in admitted if probe]
    assert len(probe_times) == 2
    assert 0.25 <= probe_times[0] < 0.5
    assert probe_times[1] - probe_times[0] >= 0.3  # one probe per back-off interval
    # Nobody else went out before the second probe got through.
    others = [t for t, probe in admitted if probe is False]
    assert len(others) == 4
    assert min(others) >= probe_times[1] + 0.04


def test_retry_after_spaces_the_probes() -> None:
    breaker = CircuitBreaker(1, delay=_fixed(0.0))
    breaker.failed(False, retry_after_s=0.4)

    async def run() -> float:
        started = time.monotonic()
        assert await breaker.admit() is True
        return time.monotonic() - started

    assert asyncio.run(run()) >= 0.35


def test_a_waiting_request_gives_up_when_told_and_an_abandoned_probe_frees_the_slot() -> None:
    async def run() -> tuple[bool | None, bool | None]:
        breaker = CircuitBreaker(1, delay=_fixed(0.0))
        breaker.failed(False)
        first = await breaker.admit()  # the probe
        gave_up = await breaker.admit(give_up=lambda: True)
        breaker.abandon(bool(first))
        again = await asyncio.wait_for(breaker.admit(), 1.0)  # the slot is free again
        return gave_up, again

    gave_up, again = asyncio.run(run())
    assert gave_up is None
    assert again is True
