"""Retry delays (docs/DESIGN.md §6: exponential backoff, full jitter, Retry-After honoured).

The process-wide retry rate limit is `rate_limit.RetryRateLimit`; the circuit breaker with its
probes is `circuit_breaker.CircuitBreaker`, which spaces probes with these same delays.
"""

from __future__ import annotations

import random
from typing import Final

BASE_S: Final = 0.5
CAP_S: Final = 60.0
RETRY_AFTER_CAP_S: Final = 300.0


def retry_delay(
    attempt: int,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
    cap_s: float = CAP_S,
) -> float:
    """Seconds to wait before retry number `attempt` (1 = first retry)."""
    ceiling = min(cap_s, BASE_S * 2 ** min(max(attempt - 1, 0), 32))
    delay = (rng or random).uniform(0, ceiling)
    if retry_after_s is not None and retry_after_s > 0:
        delay = max(delay, min(retry_after_s, RETRY_AFTER_CAP_S))
    return delay
