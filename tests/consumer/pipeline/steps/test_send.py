"""The send step: `ready_at`, revoked partitions, metrics."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from consumer.aep.protocol import RetryMessage
from consumer.observability import metric_names
from consumer.observability.metrics import Metrics
from consumer.pipeline.record import SourceRecord
from tests.consumer.pipeline.delivery_harness import delivery
from tests.consumer.pipeline.fakes import ScriptedSender, make_record, reject


def test_nothing_is_sent_before_ready_at() -> None:
    sender = ScriptedSender()
    ready_at = datetime.now(UTC) + timedelta(seconds=0.6)
    sent_at: list[float] = []
    original = sender.send

    async def timed(records):  # type: ignore[no-untyped-def]
        sent_at.append(time.time())
        return await original(records)

    sender.send = timed  # type: ignore[method-assign]
    with delivery(sender, ready_at=ready_at) as d:
        d.batch.submit(make_record(1, customer=1))
        d.drain()
    assert sent_at
    assert sent_at[0] >= ready_at.timestamp()
    assert d.accounted.offsets == [1]


def test_records_of_a_revoked_partition_are_not_sent_again() -> None:
    def script(record: SourceRecord, _attempt: int) -> RetryMessage:
        return RetryMessage(record, 503, 30.0)  # a long Retry-After: waiting to retry

    sender = ScriptedSender(script=script)
    with delivery(sender) as d:
        d.batch.submit(make_record(1, customer=1, partition=4))
        deadline = time.monotonic() + 5
        while not sender.requests:
            assert time.monotonic() < deadline
            d.batch.poll()
            time.sleep(0.01)
        d.send.revoke([("t", 4)])
        d.settle(timeout=5)
    assert len(sender.requests) == 1
    assert d.accounted.records == []
    assert d.dead.items == []


def test_metrics_count_records_and_batches_without_personal_data() -> None:
    reader = InMemoryMetricReader()
    metrics = Metrics(MeterProvider(metric_readers=[reader]).get_meter("test"))
    sender = ScriptedSender(script=lambda r, _a: reject()(r) if r.offset == 3 else None)
    with delivery(sender, metrics=metrics) as d:
        d.batch.submit(make_record(1, customer=1, key=(1, 1)))
        d.batch.submit(make_record(2, customer=1, key=(2, 2)))
        d.batch.submit(make_record(3, customer=3))
        d.drain()
    data = reader.get_metrics_data()
    assert data is not None
    points: dict[str, list[object]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points[metric.name] = list(metric.data.data_points)
    delivered = points[metric_names.RECORDS_DELIVERED]
    assert sum(p.value for p in delivered) == 1  # type: ignore[attr-defined]
    superseded = points[metric_names.RECORDS_SUPERSEDED]
    assert sum(p.value for p in superseded) == 1  # type: ignore[attr-defined]
    assert metric_names.BATCH_RECORDS in points
    assert metric_names.REQUEST_DURATION in points
    assert metric_names.END_TO_END_LATENCY in points
    allowed = {
        metric_names.ATTR_ERROR_CLASS,
        metric_names.ATTR_STAGE,
        metric_names.ATTR_OUTCOME,
        metric_names.ATTR_OPERATION,
        "kind",
    }
    for series in points.values():
        for point in series:
            assert set(point.attributes or {}) <= allowed  # type: ignore[attr-defined]
