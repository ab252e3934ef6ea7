"""The lag figures: librdkafka's consumer_lag of owned partitions, and the oldest record's age."""

from __future__ import annotations

import weakref

import orjson

from consumer.kafka.lag import SAMPLE_S, LagMonitor


def _stats(partitions: dict[int, int]) -> str:
    return orjson.dumps(
        {
            "topics": {
                "t": {
                    "partitions": {
                        str(p): {"consumer_lag": lag, "hi_offset": 10}
                        for p, lag in partitions.items()
                    }
                }
            }
        }
    ).decode()


def test_lag_of_owned_partitions_only() -> None:
    monitor = LagMonitor()
    owned = [("t", 0), ("t", 1)]
    monitor.attach(lambda: owned, dict)
    # -1: the internal unassigned partition; 2: not ours; 1: not known yet (-1).
    monitor.on_stats(_stats({-1: 5, 0: 7, 1: -1, 2: 4}))
    assert monitor.lag() == {("t", 0): 7.0}
    owned = [("t", 1)]
    monitor.on_stats(_stats({0: 7, 1: 3}))
    assert monitor.lag() == {("t", 1): 3.0}
    monitor.on_stats("not json")
    assert monitor.lag() == {("t", 1): 3.0}


def test_the_oldest_unaccounted_record_ages_until_it_is_accounted_for() -> None:
    now = [0.0]
    heads: dict[tuple[str, int], int | None] = {("t", 0): 5, ("t", 1): None}
    monitor = LagMonitor(clock=lambda: now[0])
    monitor.attach(list, lambda: heads)
    monitor.sample(0.0)
    now[0] = 3.0
    monitor.sample(3.0)
    assert monitor.oldest_age() == {("t", 0): 3.0, ("t", 1): 0.0}
    heads[("t", 0)] = 9  # offset 5 was accounted for; 9 is the oldest now
    monitor.sample(3.0 + SAMPLE_S / 2)  # too soon: not sampled
    assert monitor.oldest_age()[("t", 0)] == 3.0
    monitor.sample(3.0 + SAMPLE_S)
    now[0] = 4.0
    assert monitor.oldest_age()[("t", 0)] == 4.0 - (3.0 + SAMPLE_S)


class _Pipeline:
    def owned(self) -> list[tuple[str, int]]:
        return [("t", 0)]

    def oldest(self) -> dict[tuple[str, int], int | None]:
        return {("t", 0): 4}


def test_a_detached_monitor_reports_nothing_and_no_longer_holds_the_pipeline() -> None:
    now = [0.0]
    monitor = LagMonitor(clock=lambda: now[0])
    pipeline = _Pipeline()
    monitor.attach(pipeline.owned, pipeline.oldest)
    monitor.on_stats(_stats({0: 7}))
    monitor.sample(0.0)
    assert monitor.lag()
    assert monitor.oldest_age()
    gone = weakref.ref(pipeline)
    monitor.detach()
    del pipeline
    assert gone() is None  # the meter keeps the monitor for good, not what it watched
    assert monitor.lag() == {}
    assert monitor.oldest_age() == {}
    monitor.on_stats(_stats({0: 7}))
    monitor.sample(SAMPLE_S)
    assert monitor.lag() == {}
    assert monitor.oldest_age() == {}
