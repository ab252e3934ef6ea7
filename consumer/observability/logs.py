"""Structured logs to stderr (JSON by default), one configuration for every command.

Log events carry ids, counts and error classes only; personal data never reaches a log call,
and the `redact_event` processor is a last line of defence for values that slip through.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Final

import structlog
from opentelemetry import trace

from consumer.config.settings import TelemetrySettings

# Keys whose values are never logged, wherever they appear.
_SECRET_KEYS: Final = frozenset(
    {"access_token", "client_secret", "authorization", "password", "token", "secret"}
)


def redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        # `sasl.password`, `kafka_sasl_password`, `aep_client_secret`: the last word decides
        last = key.lower().replace(".", "_").rsplit("_", 1)[-1]
        if key.lower() in _SECRET_KEYS or last in _SECRET_KEYS:
            event[key] = "[redacted]"
    return event


def add_trace_ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """`trace_id` and `span_id` of the active span, so a log line leads to its trace."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = trace.format_trace_id(context.trace_id)
        event["span_id"] = trace.format_span_id(context.span_id)
    return event


def configure_logging(settings: TelemetrySettings) -> None:
    level = logging.getLevelNamesMapping()[settings.log_level]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            add_trace_ids,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_event,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # librdkafka and httpx log through the standard library; keep their noise at WARNING.
    logging.basicConfig(level=max(level, logging.WARNING), stream=sys.stderr)
