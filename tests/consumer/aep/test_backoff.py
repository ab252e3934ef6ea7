from __future__ import annotations

import random

from consumer.aep.backoff import CAP_S, RETRY_AFTER_CAP_S, retry_delay


def test_full_jitter_stays_under_the_exponential_ceiling_and_the_cap() -> None:
    rng = random.Random(1)
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (5, 8.0), (20, CAP_S)):
        delays = [retry_delay(attempt, rng=rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # jitter spreads over the whole range


def test_retry_after_is_honoured_up_to_its_cap() -> None:
    rng = random.Random(2)
    assert retry_delay(1, 7.0, rng=rng) >= 7.0
    assert retry_delay(1, 10_000.0, rng=rng) == RETRY_AFTER_CAP_S


def test_a_lower_cap_bounds_every_delay_but_not_retry_after() -> None:
    rng = random.Random(3)
    assert all(retry_delay(30, rng=rng, cap_s=2.0) <= 2.0 for _ in range(200))
    assert retry_delay(30, 5.0, rng=rng, cap_s=2.0) >= 5.0
