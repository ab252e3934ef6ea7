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
    metrics.flush()  # the source's poll loop does this once per turn
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
        metric_names.ATTR_KIND,
    }
    for series in points.values():
        for point in series:
            assert set(point.attributes or {}) <= allowed  # type: ignore[attr-defined]


def test_several_batches_waiting_for_ready_at_are_all_sent_after_it() -> None:
    sender = ScriptedSender()
    ready_at = datetime.now(UTC) + timedelta(seconds=0.5)
    with delivery(sender, max_records=1, ready_at=ready_at) as d:
        for offset in (1, 2, 3):
            d.batch.submit(make_record(offset, customer=offset))
        d.batch.poll()
        assert d.send.requests_in_flight() == 3  # three tasks wait for the same deadline
        d.settle()  # the second task to wake used to fail on the deadline the first cleared
    assert sorted(d.accounted.offsets) == [1, 2, 3]
    assert all(r.attempts == 1 for batch in sender.requests for r in batch)


def test_a_record_waiting_for_ready_at_is_let_go_at_once_when_its_partition_is_revoked() -> None:
    sender = ScriptedSender()
    ready_at = datetime.now(UTC) + timedelta(seconds=1.0)
    with delivery(sender, max_records=1, ready_at=ready_at) as d:
        d.batch.submit(make_record(7, customer=1))
        d.batch.submit(make_record(8, partition=1, customer=2))
        d.batch.poll()
        time.sleep(0.1)  # both tasks now wait for ready_at
        d.send.revoke([("t", 0)])
        d.lanes.drop_partitions({("t", 0)})
        started = time.monotonic()
        while d.lanes.in_flight_in([("t", 0)]):
            assert time.monotonic() - started < 0.5, "the revoked record was not let go"
            d.send.poll()
            time.sleep(0.005)
        d.settle()
    # Only partition 1's record reached AEP, after ready_at; partition 0's new owner sends its own.
    assert [[r.coordinates for r in batch] for batch in sender.requests] == [[("t", 1, 8)]]
    assert d.accounted.offsets == [8]
