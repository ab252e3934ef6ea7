"""Tallied counts reach their counters at `flush`, summed, with their attribute."""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from consumer.observability import metric_names as names
from consumer.observability.metrics import Metrics


def _points(reader: InMemoryMetricReader) -> dict[tuple[str, tuple[tuple[str, str], ...]], int]:
    data = reader.get_metrics_data()
    found: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
    if data is None:
        return found
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    attributes = tuple(sorted((k, str(v)) for k, v in point.attributes.items()))
                    found[(metric.name, attributes)] = int(point.value)  # type: ignore[union-attr]
    return found


def test_tallies_reach_their_counters_only_at_flush() -> None:
    reader = InMemoryMetricReader()
    metrics = Metrics(MeterProvider(metric_readers=[reader]).get_meter("t"))
    metrics.tally(metrics.superseded)
    metrics.tally(metrics.superseded, 4)
    metrics.map_notes(("map.gender_unknown", "map.country_code_dropped", "map.gender_unknown"))
    metrics.replayed("sent", 2)
    metrics.replayed("stale")
    assert _points(reader) == {}

    metrics.flush()
    assert _points(reader) == {
        (names.RECORDS_SUPERSEDED, ()): 5,
        (names.RECORDS_NOTES, ((names.ATTR_ERROR_CLASS, "map.gender_unknown"),)): 2,
        (names.RECORDS_NOTES, ((names.ATTR_ERROR_CLASS, "map.country_code_dropped"),)): 1,
        (names.REPLAY_RECORDS, ((names.ATTR_OUTCOME, "sent"),)): 2,
        (names.REPLAY_RECORDS, ((names.ATTR_OUTCOME, "stale"),)): 1,
    }

    metrics.flush()  # nothing new: the counters stay where they are
    metrics.tally(metrics.stale)
    metrics.flush()
    points = _points(reader)
    assert points[(names.RECORDS_SUPERSEDED, ())] == 5
    assert points[(names.RECORDS_STALE, ())] == 1
