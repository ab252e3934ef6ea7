"""OpenTelemetry instruments of the consumer (names in `consumer.observability.metric_names`).

Only the API is used: without a configured SDK every instrument is a no-op. With one, a counter's
`add` costs about 3 µs, as much as a sixth of a record's mapping: the per-record counts are
tallied in a dict on the poll thread and added to their counters once per poll-loop turn
(`flush`). Attributes are error classes, stages, operations and outcomes, never record data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Counter, Observation

from consumer.observability import metric_names as names

# Per (topic, partition): a figure the lag gauges report.
PartitionFigures = Callable[[], Mapping[tuple[str, int], float]]
# A tallied count: its counter and its one attribute (name, value), if any.
_TallyKey = tuple[Counter, tuple[str, str] | None]


class Metrics:
    def __init__(self, meter: metrics.Meter | None = None) -> None:
        meter = meter or metrics.get_meter("commerce_profile_sync.consumer")
        self._meter = meter
        self._tallies: dict[_TallyKey, int] = {}
        self.records_in = meter.create_counter(
            names.RECORDS_IN, unit="{record}", description="Records polled from the topic"
        )
        self.delivered = meter.create_counter(
            names.RECORDS_DELIVERED, unit="{record}", description="Records accepted by AEP"
        )
        self.superseded = meter.create_counter(
            names.RECORDS_SUPERSEDED,
            unit="{record}",
            description="Records accounted for by a newer accepted record of the same customer",
        )
        self.dead_lettered = meter.create_counter(
            names.RECORDS_DEAD_LETTERED,
            unit="{record}",
            description="Records written to the dead-letter topic, by error class",
        )
        self.stale = meter.create_counter(
            names.RECORDS_STALE,
            unit="{record}",
            description="Records older than their customer's mark: skipped, never sent",
        )
        self.notes = meter.create_counter(
            names.RECORDS_NOTES,
            unit="{record}",
            description="Values the mapper left out of delivered records, by class",
        )
        self.batch_records = meter.create_histogram(
            names.BATCH_RECORDS, unit="{record}", description="Records per AEP request"
        )
        self.batch_bytes = meter.create_histogram(
            names.BATCH_BYTES, unit="By", description="Request body bytes per AEP request"
        )
        self.request_duration = meter.create_histogram(
            names.REQUEST_DURATION, unit="s", description="AEP inlet request latency"
        )
        self.requests_in_flight = meter.create_up_down_counter(
            names.REQUESTS_IN_FLIGHT, unit="{request}", description="AEP requests in flight"
        )
        self.request_retries = meter.create_counter(
            names.REQUEST_RETRIES, unit="{request}", description="AEP requests to be retried"
        )
        self.end_to_end_latency = meter.create_histogram(
            names.END_TO_END_LATENCY,
            unit="s",
            description="Kafka record timestamp to AEP acceptance",
        )
        self.commits = meter.create_counter(
            names.COMMITS, unit="{commit}", description="Offset commits and stores"
        )
        # Sampled by the poll thread on every loop turn: the histogram's max is the peak.
        self.buffered = meter.create_histogram(
            names.RECORDS_BUFFERED,
            unit="{record}",
            description="Records held by the delivery steps (waiting, in flight, offered again)",
        )
        self.partitions_paused = meter.create_up_down_counter(
            names.PARTITIONS_PAUSED, unit="{partition}", description="Partitions paused"
        )
        self.rebalances = meter.create_counter(
            names.REBALANCES,
            unit="{rebalance}",
            description="Rebalance callbacks, by kind (assigned, revoked, lost)",
        )
        self.breaker_opened = meter.create_counter(
            names.BREAKER_OPENED, unit="{event}", description="Times the AEP circuit opened"
        )
        self.guard_tripped = meter.create_counter(
            names.GUARD_TRIPPED, unit="{event}", description="Times the dead-letter guard tripped"
        )
        self.restore_records = meter.create_counter(
            names.STATE_RESTORE_RECORDS,
            unit="{record}",
            description="Changelog records read to bring partition stores up to date",
        )
        self.restore_duration = meter.create_histogram(
            names.STATE_RESTORE_DURATION,
            unit="s",
            description="Time to bring one partition's store up to the changelog's end",
        )
        self.mark_writes = meter.create_counter(
            names.STATE_MARK_WRITES,
            unit="{record}",
            description="Marks acknowledged by the changelog topic",
        )
        # Sampled when a store is opened, restored or closed, by source partition.
        self.store_keys = meter.create_gauge(
            names.STATE_STORE_KEYS,
            unit="{customer}",
            description="Customers with a mark in a partition's store (RocksDB's estimate)",
        )
        self.replay_in = meter.create_counter(
            names.REPLAY_RECORDS_IN,
            unit="{record}",
            description="Records polled from the replay topic",
        )
        self.replay_outcomes = meter.create_counter(
            names.REPLAY_RECORDS,
            unit="{record}",
            description="Records of the replay topic accounted for, by outcome "
            "(sent, superseded, stale, dead_lettered)",
        )

    def observe_lag(self, lag: PartitionFigures, oldest_age: PartitionFigures) -> None:
        """The lag gauges, read when the metrics are collected (never on the poll thread)."""
        self._meter.create_observable_gauge(
            names.CONSUMER_LAG,
            callbacks=[_observer(lag)],
            unit="{record}",
            description="End offset - committed position, per owned partition",
        )
        self._meter.create_observable_gauge(
            names.OLDEST_UNACCOUNTED_AGE,
            callbacks=[_observer(oldest_age)],
            unit="s",
            description="Age of the oldest polled record not yet accounted for, per partition",
        )

    def tally(
        self, counter: Counter, amount: int = 1, attribute: tuple[str, str] | None = None
    ) -> None:
        """Count on the poll thread; the counter gets it at the next `flush`."""
        key = (counter, attribute)
        tallies = self._tallies
        tallies[key] = tallies.get(key, 0) + amount

    def flush(self) -> None:
        """Add the tallied counts to their counters: once per poll-loop turn, and at the end."""
        if self._tallies:
            tallies, self._tallies = self._tallies, {}
            for (counter, attribute), amount in tallies.items():
                counter.add(amount, None if attribute is None else {attribute[0]: attribute[1]})

    def replayed(self, outcome: str, count: int = 1) -> None:
        self.tally(self.replay_outcomes, count, (names.ATTR_OUTCOME, outcome))

    def dead_letter(self, error_class: str, stage: str) -> None:
        self.dead_lettered.add(1, {names.ATTR_ERROR_CLASS: error_class, names.ATTR_STAGE: stage})

    def map_notes(self, notes: tuple[str, ...]) -> None:
        for note in notes:
            self.tally(self.notes, 1, (names.ATTR_ERROR_CLASS, note))


def _observer(figures: PartitionFigures) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(_: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(value, {names.ATTR_TOPIC: topic, names.ATTR_PARTITION: partition})
            for (topic, partition), value in figures().items()
        ]

    return observe
