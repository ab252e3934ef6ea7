"""Spans of the service (docs/DESIGN.md §14): the tracer, the semantic-convention attributes, and
the W3C trace context of Kafka records.

What is traced, and how it costs little per record: one span per AEP request attempt (HTTP client
conventions) under one span per batch, one span per dead-letter write, one span per poll turn's
changelog writes, one span per Platform call of `init`. Records are never spans of their own; a
record that came with a `traceparent` header is a link of the batch (or dead-letter write) that
carries it. Attributes hold coordinates, counts, statuses and error classes: never record data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from typing import Final
from urllib.parse import urlsplit

from opentelemetry import propagate, trace
from opentelemetry.trace import Link, Span, SpanContext

TRACER: Final = trace.get_tracer("commerce_profile_sync")
TRACEPARENT: Final = "traceparent"
# The default limit of the SDK (OTEL_SPAN_LINK_COUNT_LIMIT); links past it would be dropped.
MAX_LINKS: Final = 128

# How many times the request now being sent was sent before (the pipeline's retries), read by
# the inlet client for `http.request.resend_count`.
RESEND_COUNT: ContextVar[int] = ContextVar("profile_sync_resend_count", default=0)

_enabled = False


def enabled() -> bool:
    """Whether an SDK tracer provider is installed (the span-making paths skip work otherwise)."""
    return _enabled


def set_enabled(value: bool) -> None:
    global _enabled
    _enabled = value


def incoming(headers: Sequence[tuple[str, bytes | None]] | None) -> SpanContext | None:
    """The span context of a record's `traceparent` header, when it carries a valid one."""
    if not headers:
        return None
    for name, value in headers:
        if name == TRACEPARENT and value:
            carrier = {TRACEPARENT: value.decode("ascii", "replace")}
            context = trace.get_current_span(propagate.extract(carrier)).get_span_context()
            return context if context.is_valid else None
    return None


def links(
    headers: Iterable[Sequence[tuple[str, bytes | None]] | None], limit: int = MAX_LINKS
) -> list[Link]:
    """Links to the incoming trace contexts among `headers` (one list per record), at most
    `limit`, each context once."""
    found: dict[tuple[int, int], Link] = {}
    for record_headers in headers:
        context = incoming(record_headers)
        if context is not None:
            found.setdefault((context.trace_id, context.span_id), Link(context))
            if len(found) >= limit:
                break
    return list(found.values())


def traceparent(span: Span) -> str | None:
    """The W3C `traceparent` value naming `span`."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get(TRACEPARENT)


def http_client_attributes(method: str, url: str) -> dict[str, str | int]:
    """HTTP client attributes known before the request. `url.full` goes without its query and
    credentials (a query could hold names; the Platform calls of `init` carry titles there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return {
        "http.request.method": method,
        "server.address": host,
        "server.port": port,
        "url.full": f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}",
        "url.scheme": parts.scheme,
    }


def record_status(span: Span, status: int) -> None:
    """`http.response.status_code`, and an error for 4xx/5xx answers (client span rules)."""
    span.set_attribute("http.response.status_code", status)
    if status >= 400:
        span.set_attribute("error.type", str(status))
        span.set_status(trace.StatusCode.ERROR)


def record_error(span: Span, error: BaseException) -> None:
    """A request that got no answer (timeout, connection error)."""
    span.set_attribute("error.type", type(error).__name__)
    span.set_status(trace.StatusCode.ERROR)


def kafka_producer_attributes(topic: str, count: int = 1) -> dict[str, str | int]:
    """Messaging attributes of a produce to `topic` (`count` > 1: a batch span)."""
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
    }
    if count > 1:
        attributes["messaging.batch.message_count"] = count
    return attributes
