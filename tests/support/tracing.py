"""An SDK tracer provider for the span unit tests, installed once per process (the API allows
one); the integration tests export to a real Jaeger instead."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from consumer.observability import tracing

_EXPORTER = InMemorySpanExporter()


class _Gate(SimpleSpanProcessor):
    """Keeps spans only while a test asks for them: the provider stays for the whole process,
    and other tests' spans must not pile up in memory."""

    open = False

    def on_end(self, span: ReadableSpan) -> None:
        if self.open:
            super().on_end(span)


_GATE = _Gate(_EXPORTER)


def _install() -> None:
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider()
    provider.add_span_processor(_GATE)
    trace.set_tracer_provider(provider)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for one test; the finished spans in `.get_finished_spans()`."""
    _install()
    _EXPORTER.clear()
    tracing.set_enabled(True)
    _GATE.open = True
    try:
        yield _EXPORTER
    finally:
        _GATE.open = False
        tracing.set_enabled(False)
        _EXPORTER.clear()
