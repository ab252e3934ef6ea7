"""The guard step: stale records are accounted for and counted, never forwarded."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from consumer.observability.metric_names import RECORDS_STALE
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import MessageRejected
from consumer.pipeline.state.stale import StaleGuardStep
from consumer.pipeline.state.store import StateStores
from tests.consumer.pipeline.fakes import Collector, make_record


def _stale_count(reader: InMemoryMetricReader) -> int:
    data = reader.get_metrics_data()
    total = 0
    if data is None:
        return total
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == RECORDS_STALE:
                    total += sum(int(point.value) for point in metric.data.data_points)
    return total


def test_older_than_the_mark_is_accounted_for_and_counted(tmp_path: Path) -> None:
    reader = InMemoryMetricReader()
    metrics = Metrics(MeterProvider(metric_readers=[reader]).get_meter("t"))
    stores = StateStores(tmp_path, "g.state")
    stores.open(1).put(42, (100, 100, 9))
    stores.mark_ready(1)
    forward, accounted = Collector(), Collector()
    step = StaleGuardStep(stores, forward, accounted, metrics)

    step.submit(older := make_record(20, partition=1, customer=42, key=(99, 200)))
    step.submit(same := make_record(9, partition=1, customer=42, key=(100, 100)))
    step.submit(newer := make_record(21, partition=1, customer=42, key=(101, 0)))
    step.submit(other := make_record(22, partition=1, customer=43, key=(1, 1)))

    assert accounted.records == [older]
    assert forward.records == [same, newer, other]
    assert _stale_count(reader) == 0  # tallied: the counter gets it once per poll-loop turn
    metrics.flush()
    assert _stale_count(reader) == 1
    stores.close_all()


def test_a_partition_being_restored_refuses_until_it_is_current(tmp_path: Path) -> None:
    stores = StateStores(tmp_path, "g.state")
    forward = Collector()
    step = StaleGuardStep(stores, forward, Collector(), Metrics())
    record = make_record(1, partition=4, customer=1)
    with pytest.raises(MessageRejected):
        step.submit(record)  # not even open
    stores.open(4)
    with pytest.raises(MessageRejected):
        step.submit(record)  # open, still restoring
    assert forward.records == []
    stores.mark_ready(4)
    step.submit(record)
    assert forward.records == [record]
    stores.close_all()
