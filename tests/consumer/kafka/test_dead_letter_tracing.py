"""A dead letter's `profile_sync.traceparent` names its write span, which continues the trace of
the AEP batch that refused the record and links to the trace the record came with."""

from __future__ import annotations

from datetime import UTC, datetime

from confluent_kafka import KafkaError
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from consumer.kafka.dead_letters import H_TRACEPARENT, DeadLetterProducer
from consumer.observability import tracing
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import DeadLetter
from tests.consumer.kafka.test_dead_letters import FakeProducer
from tests.consumer.pipeline.fakes import Collector, make_record

UPSTREAM = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
REASON = DeadLetter("deliver.aep_rejected", "refused", "deliver", {"status": 400})


def _header(produced: dict[str, object], name: str) -> str:
    headers = produced["headers"]
    assert isinstance(headers, list)
    return next(v.decode() for k, v in headers if k == name)


def test_the_header_names_the_write_span_in_the_batch_trace(spans: InMemorySpanExporter) -> None:
    producer = FakeProducer()
    sink = DeadLetterProducer(producer, "t.dlq", Collector(), Metrics(), lambda: datetime.now(UTC))
    record = make_record(offset=7)
    record.headers = [("traceparent", UPSTREAM)]
    record.customer_id = 42
    with tracing.TRACER.start_as_current_span("profile_sync deliver") as batch:
        record.trace_context = batch.get_span_context()
    sink.dead_letter(record, REASON)
    assert not spans.get_finished_spans()[1:]  # open until the write is acknowledged
    producer.ack()
    write = spans.get_finished_spans()[-1]
    assert write.name == "send t.dlq"
    assert write.kind is trace.SpanKind.PRODUCER
    assert write.parent is not None
    assert write.parent.span_id == batch.get_span_context().span_id
    assert [f"{link.context.trace_id:032x}" for link in write.links] == [
        "4bf92f3577b34da6a3ce929d0e0e4736"
    ]
    attributes = dict(write.attributes or {})
    assert attributes["messaging.system"] == "kafka"
    assert attributes["messaging.destination.name"] == "t.dlq"
    assert attributes["messaging.operation.type"] == "send"
    assert attributes["profile_sync.error.class"] == "deliver.aep_rejected"
    assert attributes["profile_sync.customer_id"] == "42"
    _, trace_id, span_id, _ = _header(producer.produced[0], H_TRACEPARENT).split("-")
    assert trace_id == f"{write.context.trace_id:032x}"
    assert span_id == f"{write.context.span_id:016x}"


def test_a_failed_write_ends_its_span_as_an_error(spans: InMemorySpanExporter) -> None:
    producer = FakeProducer()
    sink = DeadLetterProducer(producer, "t.dlq", Collector(), Metrics())
    sink.dead_letter(make_record(offset=1), REASON)
    producer.ack(KafkaError(KafkaError._MSG_TIMED_OUT))
    (write,) = spans.get_finished_spans()
    assert write.status.status_code is trace.StatusCode.ERROR
    assert write.parent is None  # no batch carried it: a trace of its own


def test_no_header_without_tracing() -> None:
    producer = FakeProducer()
    sink = DeadLetterProducer(producer, "t.dlq", Collector(), Metrics())
    sink.dead_letter(make_record(offset=1), REASON)
    headers = producer.produced[0]["headers"]
    assert H_TRACEPARENT not in [k for k, _ in headers]
