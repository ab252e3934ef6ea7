"""Rate limits of the streaming inlet (docs/AEP.md §2.8): token buckets with a one-second burst."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """`rate` tokens per `per_s` seconds, holding at most `rate` tokens; rate 0 = unlimited."""

    def __init__(self, rate: float, per_s: float = 1.0) -> None:
        self.rate = rate
        self.per_s = per_s
        self._lock = threading.Lock()
        self._tokens = rate
        self._at = time.monotonic()

    def take(self, n: float = 1.0) -> bool:
        """Take n tokens if all are there; a request never takes part of its messages."""
        if self.rate <= 0:
            return True
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.rate, self._tokens + (now - self._at) * self.rate / self.per_s)
            self._at = now
            if self._tokens >= n:
                self._tokens -= n
                return True
            return False

    def reset(self) -> None:
        with self._lock:
            self._tokens = self.rate
            self._at = time.monotonic()


class InletLimits:
    def __init__(
        self, requests_per_s: float, messages_per_s: float, sync_validation_per_min: int
    ) -> None:
        self.requests = TokenBucket(requests_per_s)
        self.messages = TokenBucket(messages_per_s)
        self.sync_validation = TokenBucket(float(sync_validation_per_min), per_s=60.0)

    def admit(self, n_messages: int) -> bool:
        """Both limits at once: a refused request consumes nothing of the message budget."""
        if not self.requests.take(1):
            return False
        return self.messages.take(n_messages)

    def reset(self) -> None:
        for bucket in (self.requests, self.messages, self.sync_validation):
            bucket.reset()
