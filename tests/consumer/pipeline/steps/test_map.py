"""The map step counts what the mapper left out of a delivered record, by class."""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from consumer.observability import metric_names
from consumer.observability.metrics import Metrics
from consumer.pipeline.steps.map import MapStep
from mappers import Mapper, MapperOptions
from tests.consumer.pipeline.fakes import Collector, DeadLetters, make_record


def _event(country: str) -> dict[str, object]:
    address = {
        "id": 9,
        "firstname": "A",
        "lastname": "B",
        "street": ["1 Main St"],
        "city": "Springfield",
        "country_id": country,
        "telephone": "555",
    }
    return {
        "event_id": "e-1",
        "event_time": 1_764_324_000_000,
        "source": "acme",
        "scope": {"website_code": "base"},
        "customer": {
            "id": 7,
            "email": "a@example.com",
            "website_id": 1,
            "group_id": 1,
            "created_at": 1_764_324_000_000,
            "updated_at": 1_764_324_000_000,
            "default_billing": 9,
            "addresses": [address],
        },
    }


def _noted(reader: InMemoryMetricReader) -> dict[str, int]:
    counts: dict[str, int] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == metric_names.RECORDS_NOTES:
                    for point in metric.data.data_points:
                        key = str(point.attributes[metric_names.ATTR_ERROR_CLASS])
                        counts[key] = int(point.value)  # type: ignore[union-attr]
    return counts


def test_a_dropped_country_code_is_counted_and_the_record_goes_on() -> None:
    reader = InMemoryMetricReader()
    metrics = Metrics(MeterProvider(metric_readers=[reader]).get_meter("test"))
    out, dead = Collector(), DeadLetters()
    step = MapStep(Mapper(MapperOptions()), out, dead, metrics)  # type: ignore[arg-type]
    for offset, country in enumerate(["USA", "US"]):
        record = make_record(offset)
        record.event_type = "CustomerUpdated"
        record.datum = _event(country)
        step.submit(record)
    assert len(out.records) == 2
    metrics.flush()  # the source's poll loop does this once per turn
    assert _noted(reader) == {"map.country_code_dropped": 1}
