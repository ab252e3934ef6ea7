"""Span helpers: W3C context of Kafka records, links, and attributes without secrets or queries."""

from __future__ import annotations

import structlog
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from consumer.observability import tracing
from consumer.observability.logs import add_trace_ids

UPSTREAM = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_the_incoming_context_is_read_from_the_traceparent_header() -> None:
    context = tracing.incoming([("other", b"x"), ("traceparent", UPSTREAM)])
    assert context is not None
    assert f"{context.trace_id:032x}" == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert f"{context.span_id:016x}" == "00f067aa0ba902b7"
    assert tracing.incoming([("traceparent", b"garbage")]) is None
    assert tracing.incoming([("traceparent", None)]) is None
    assert tracing.incoming(None) is None


def test_links_are_unique_and_bounded() -> None:
    other = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    headers = [
        [("traceparent", UPSTREAM)],
        None,
        [("traceparent", UPSTREAM)],
        [("traceparent", other)],
    ]
    assert len(tracing.links(headers)) == 2
    assert len(tracing.links(headers, limit=1)) == 1


def test_url_full_has_no_query_and_no_credentials() -> None:
    attributes = tracing.http_client_attributes(
        "GET", "https://user:pw@platform.example:8443/data/foundation/schemaregistry?title=Jane"
    )
    assert attributes["url.full"] == (
        "https://platform.example:8443/data/foundation/schemaregistry"
    )
    assert attributes["server.address"] == "platform.example"
    assert attributes["server.port"] == 8443
    assert attributes["http.request.method"] == "GET"
    assert tracing.http_client_attributes("POST", "http://h/x")["server.port"] == 80


def test_traceparent_names_the_span(spans: InMemorySpanExporter) -> None:
    with tracing.TRACER.start_as_current_span("one") as span:
        value = tracing.traceparent(span)
    context = span.get_span_context()
    assert value is not None
    assert value.startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")


def test_logs_carry_the_active_spans_ids(spans: InMemorySpanExporter) -> None:
    assert "trace_id" not in add_trace_ids(None, "info", {"event": "x"})
    with tracing.TRACER.start_as_current_span("one") as span:
        event = add_trace_ids(None, "info", {"event": "x"})
    context = span.get_span_context()
    assert event["trace_id"] == f"{context.trace_id:032x}"
    assert event["span_id"] == f"{context.span_id:016x}"
    structlog.reset_defaults()
