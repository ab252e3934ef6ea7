"""Where the consumer's metrics go: the OpenTelemetry SDK set-up for `run`.

The instruments use the OpenTelemetry API (`consumer/metrics.py`); without an SDK provider they
cost nothing and export nothing. `OTEL_METRICS_EXPORTER` (the SDK's own variable) chooses:
`none` (the default) or `console` (JSON to stderr every `OTEL_METRIC_EXPORT_INTERVAL` ms, 60 s by
default). OTLP needs `opentelemetry-exporter-otlp`, which is not installed by default.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Final, TextIO

from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from consumer.config.settings import ConfigFileError

EXPORTER_VARIABLE: Final = "OTEL_METRICS_EXPORTER"
INTERVAL_VARIABLE: Final = "OTEL_METRIC_EXPORT_INTERVAL"
SERVICE_NAME: Final = "commerce-profile-sync"


def metrics_provider(
    environ: Mapping[str, str] = os.environ, out: TextIO = sys.stderr
) -> MeterProvider | None:
    """The SDK provider the environment asks for, or None when metrics stay off."""
    exporter = environ.get(EXPORTER_VARIABLE, "none").strip().lower()
    if exporter in ("", "none"):
        return None
    if exporter != "console":
        raise ConfigFileError(
            EXPORTER_VARIABLE, "must be none or console (OTLP needs opentelemetry-exporter-otlp)"
        )
    raw_interval = environ.get(INTERVAL_VARIABLE, "60000")
    try:
        interval_ms = float(raw_interval)
    except ValueError:
        raise ConfigFileError(INTERVAL_VARIABLE, "must be a number of milliseconds") from None
    if interval_ms <= 0:
        raise ConfigFileError(INTERVAL_VARIABLE, "must be a positive number of milliseconds")
    reader = PeriodicExportingMetricReader(
        ConsoleMetricExporter(out=out), export_interval_millis=interval_ms
    )
    return MeterProvider(
        metric_readers=[reader], resource=Resource.create({"service.name": SERVICE_NAME})
    )


def install(provider: MeterProvider | None) -> None:
    if provider is not None:
        metrics.set_meter_provider(provider)
