"""Metrics reach the exporter the environment names, and a wrong name fails at start."""

from __future__ import annotations

import io
import json

import pytest

from consumer.config.settings import ConfigFileError
from consumer.observability import metric_names
from consumer.observability.metrics import Metrics
from consumer.observability.telemetry import metrics_provider


def test_metrics_are_off_by_default() -> None:
    assert metrics_provider({}) is None
    assert metrics_provider({"OTEL_METRICS_EXPORTER": "none"}) is None


def test_console_exporter_writes_the_consumers_metrics() -> None:
    out = io.StringIO()
    provider = metrics_provider({"OTEL_METRICS_EXPORTER": "console"}, out=out)
    assert provider is not None
    instruments = Metrics(provider.get_meter("test"))
    instruments.records_in.add(3)
    provider.force_flush()
    provider.shutdown()
    exported = json.loads(out.getvalue().split("\n}\n")[0] + "\n}")
    names = {
        metric["name"]
        for scope in exported["resource_metrics"][0]["scope_metrics"]
        for metric in scope["metrics"]
    }
    assert metric_names.RECORDS_IN in names
    assert exported["resource_metrics"][0]["resource"]["attributes"]["service.name"] == (
        "commerce-profile-sync"
    )


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"OTEL_METRICS_EXPORTER": "otlp"}, "OTEL_METRICS_EXPORTER"),
        (
            {"OTEL_METRICS_EXPORTER": "console", "OTEL_METRIC_EXPORT_INTERVAL": "soon"},
            "OTEL_METRIC_EXPORT_INTERVAL",
        ),
        (
            {"OTEL_METRICS_EXPORTER": "console", "OTEL_METRIC_EXPORT_INTERVAL": "0"},
            "OTEL_METRIC_EXPORT_INTERVAL",
        ),
    ],
)
def test_a_wrong_exporter_setting_names_the_variable(
    environ: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigFileError) as info:
        metrics_provider(environ)
    assert info.value.setting == variable
