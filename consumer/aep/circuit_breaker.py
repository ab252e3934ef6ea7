"""The circuit breaker in front of the AEP inlet (docs/DESIGN.md §6, "Retries and guard").

Closed, every request goes out. After `threshold` consecutive failed requests (retryable
answers: 429, 5xx, timeouts, connection errors) it opens: from then on a single probe goes out per
back-off interval (full jitter, growing like a request's own retries, `Retry-After` honoured) and
every other request waits. The first probe that gets through closes it again. Waiting delays
records; it never drops or dead-letters them.

HTTP loop only: it is plain state, not thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Final

from consumer.aep.backoff import retry_delay

# How often a waiting request looks again whether it should give up (its partition was revoked).
WAIT_SLICE_S: Final = 0.1


class CircuitBreaker:
    def __init__(
        self,
        threshold: int,
        *,
        delay: Callable[[int, float | None], float] = retry_delay,
        clock: Callable[[], float] = time.monotonic,
        on_open: Callable[[], None] = lambda: None,
    ) -> None:
        self._threshold = threshold
        self._on_open = on_open
        self._delay = delay
        self._clock = clock
        self._failures = 0
        self._open = False
        self._round = 0
        self._next_probe = 0.0
        self._probing = False
        self._changed: asyncio.Event | None = None
        self.opened = 0  # how many times it opened (tests, metrics)
        self.probes = 0

    @property
    def is_open(self) -> bool:
        return self._open

    async def admit(self, give_up: Callable[[], bool] = lambda: False) -> bool | None:
        """Wait until a request may go out. True: it goes as the probe (report its result with
        `probe=True`); False: the circuit is closed; None: `give_up()` became true meanwhile."""
        while self._open:
            if give_up():
                return None
            now = self._clock()
            if not self._probing and now >= self._next_probe:
                self._probing = True
                self.probes += 1
                return True
            wait = WAIT_SLICE_S
            if not self._probing:
                wait = min(wait, self._next_probe - now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event().wait(), wait)
        return False

    def succeeded(self, probe: bool) -> None:
        self._failures = 0
        if probe:
            self._probing = False
        if self._open:
            self._open = False
            self._round = 0
            self._notify()

    def failed(self, probe: bool, retry_after_s: float | None = None) -> None:
        self._failures += 1
        if probe:
            self._probing = False
        if self._open:
            # Requests that left before it opened change nothing; only a probe moves the clock.
            if probe:
                self._schedule(retry_after_s)
            return
        if self._failures >= self._threshold:
            self._open = True
            self.opened += 1
            self._on_open()
            self._round = 0
            self._schedule(retry_after_s)

    def abandon(self, probe: bool) -> None:
        """An admitted request was not sent after all (its partition was revoked)."""
        if probe:
            self._probing = False
            self._notify()

    def _schedule(self, retry_after_s: float | None) -> None:
        self._round += 1
        self._next_probe = self._clock() + self._delay(self._round, retry_after_s)
        self._notify()

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _notify(self) -> None:
        # Every waiter holds the old event; a fresh one serves the next wait.
        if self._changed is not None:
            self._changed.set()
            self._changed = None
