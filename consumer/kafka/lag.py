"""The lag figures (docs/DESIGN.md §14), kept off the record path.

- **Behind**: per owned partition, end offset - committed position, from librdkafka's own
  statistics (`consumer_lag`: the partition's high watermark, learnt from fetches, less the
  committed offset), delivered to `on_stats` every `statistics.interval.ms` inside a poll.
- **Stuck**: per owned partition, how long its oldest unaccounted record has been the oldest,
  sampled by the poll thread at most every `SAMPLE_S` (so accurate to that much).

The poll thread writes; the metric reader's thread reads immutable snapshots.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import orjson
import structlog

from consumer.pipeline.offsets import TopicPartitionKey

_log = structlog.get_logger(__name__)

SAMPLE_S: Final = 0.5
# librdkafka's statistics every this many ms unless the Kafka settings name another interval.
STATISTICS_INTERVAL_MS: Final = 5000


class LagMonitor:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._owned: Callable[[], list[TopicPartitionKey]] = list
        self._oldest: Callable[[], Mapping[TopicPartitionKey, int | None]] = dict
        self._clock = clock
        self._lag: dict[TopicPartitionKey, float] = {}
        # Per partition: (oldest unaccounted offset, when it was first seen as the oldest).
        self._heads: dict[TopicPartitionKey, tuple[int | None, float]] = {}
        self._sampled_at = float("-inf")

    def attach(
        self,
        owned: Callable[[], list[TopicPartitionKey]],
        oldest: Callable[[], Mapping[TopicPartitionKey, int | None]],
    ) -> None:
        """The pipeline's view of owned partitions and their oldest unaccounted offsets (the
        consumer, whose statistics arrive here, is made before the pipeline)."""
        self._owned = owned
        self._oldest = oldest

    def detach(self) -> None:
        """The run is over: nothing is owned any more. The meter keeps the gauges' callbacks (and
        so this monitor) for the life of the process; detached, they no longer keep the pipeline
        and its Kafka clients alive after it."""
        self._owned, self._oldest = list, dict
        self._lag, self._heads = {}, {}

    # -- poll thread ----------------------------------------------------------------------
    def on_stats(self, stats: str) -> None:
        """librdkafka's `stats_cb`: keep the lag of the partitions this process owns."""
        try:
            document: dict[str, Any] = orjson.loads(stats)
        except orjson.JSONDecodeError:
            return
        owned = set(self._owned())
        lag: dict[TopicPartitionKey, float] = {}
        for topic, topic_stats in (document.get("topics") or {}).items():
            for partition, p in (topic_stats.get("partitions") or {}).items():
                tp = (topic, int(partition))
                figure = p.get("consumer_lag", -1)
                if tp in owned and isinstance(figure, int) and figure >= 0:
                    lag[tp] = float(figure)
        self._lag = lag

    def sample(self, now: float) -> None:
        """Called on every loop turn; samples the oldest unaccounted records now and then."""
        if now - self._sampled_at < SAMPLE_S:
            return
        self._sampled_at = now
        heads = self._heads
        fresh: dict[TopicPartitionKey, tuple[int | None, float]] = {}
        for tp, offset in self._oldest().items():
            seen = heads.get(tp)
            fresh[tp] = seen if seen is not None and seen[0] == offset else (offset, now)
        self._heads = fresh

    # -- metric reader --------------------------------------------------------------------
    def lag(self) -> Mapping[TopicPartitionKey, float]:
        return self._lag

    def oldest_age(self) -> Mapping[TopicPartitionKey, float]:
        now = self._clock()
        return {
            tp: 0.0 if offset is None else max(now - since, 0.0)
            for tp, (offset, since) in self._heads.items()
        }
