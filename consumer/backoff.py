"""Retry delays (design section 6: exponential backoff, full jitter, Retry-After honoured).

Basic version for the delivery core; issue 9 adds the process-wide retry rate limit and the
circuit breaker with probes.
"""

from __future__ import annotations

import random
from typing import Final

BASE_S: Final = 0.5
CAP_S: Final = 60.0
RETRY_AFTER_CAP_S: Final = 300.0


def retry_delay(
    attempt: int, retry_after_s: float | None = None, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number `attempt` (1 = first retry)."""
    ceiling = min(CAP_S, BASE_S * 2 ** max(attempt - 1, 0))
    delay = (rng or random).uniform(0, ceiling)
    if retry_after_s is not None and retry_after_s > 0:
        delay = max(delay, min(retry_after_s, RETRY_AFTER_CAP_S))
    return delay
