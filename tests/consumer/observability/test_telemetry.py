"""Traces and metrics reach the exporters the OTEL_* variables name (the exporters' entry
points), and a wrong value fails at start naming the variable."""

from __future__ import annotations

import io
import json

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetrics
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import (
    AlwaysOffExemplarFilter,
    AlwaysOnExemplarFilter,
    ExemplarFilter,
    TraceBasedExemplarFilter,
)
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

from consumer.config.settings import ConfigFileError
from consumer.observability import metric_names, telemetry
from consumer.observability.metrics import Metrics
from consumer.observability.telemetry import (
    configure,
    metric_readers,
    metrics_provider,
    span_exporters,
    tracer_provider,
)

_OTEL = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "OTEL_METRIC_EXPORT_INTERVAL",
    "OTEL_METRICS_EXEMPLAR_FILTER",
)


@pytest.fixture(autouse=True)
def _clean_otel(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _OTEL:
        monkeypatch.delenv(name, raising=False)


def test_telemetry_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    telemetry = configure(health_port=8080)
    assert telemetry.tracer_provider is None
    assert telemetry.meter_provider is None
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert configure(health_port=8080).meter_provider is None


def test_console_exporter_writes_the_consumers_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "console")
    out = io.StringIO()
    provider, prometheus = metrics_provider(out=out)
    assert provider is not None
    assert not prometheus
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


def test_console_spans_go_to_the_given_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "sync-eu")
    out = io.StringIO()
    provider = tracer_provider(out=out)
    assert provider is not None
    with provider.get_tracer("test").start_as_current_span("one"):
        pass
    provider.shutdown()
    span = json.loads(out.getvalue())
    assert span["name"] == "one"
    assert span["resource"]["attributes"]["service.name"] == "sync-eu"


@pytest.mark.parametrize(
    ("protocol", "exporter"), [(None, GrpcSpans), ("grpc", GrpcSpans), ("http/protobuf", HttpSpans)]
)
def test_otlp_follows_the_protocol_variable(
    monkeypatch: pytest.MonkeyPatch, protocol: str | None, exporter: type
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    if protocol is not None:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
    exporters = span_exporters()
    assert [type(e) for e in exporters] == [exporter]
    for made in exporters:
        made.shutdown()


def test_otlp_metrics_use_the_per_signal_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf")
    (reader,) = metric_readers()
    assert isinstance(reader, PeriodicExportingMetricReader)
    assert isinstance(reader._exporter, HttpMetrics)
    reader.shutdown()


def test_prometheus_is_a_reader_served_on_the_health_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "prometheus")
    (reader,) = metric_readers(health_port=8080)
    assert isinstance(reader, PrometheusMetricReader)
    provider, prometheus = metrics_provider(health_port=8080)
    assert provider is not None
    assert prometheus
    provider.shutdown()
    with pytest.raises(ConfigFileError) as info:
        metrics_provider(health_port=0)
    assert info.value.setting == "OTEL_METRICS_EXPORTER"
    assert "PROFILE_SYNC_HEALTH_PORT" in info.value.reason


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        # Prometheus alone drops exemplars: none are offered.
        ({"OTEL_METRICS_EXPORTER": "prometheus"}, AlwaysOffExemplarFilter),
        # A reader that exports them keeps the SDK's default.
        ({"OTEL_METRICS_EXPORTER": "prometheus,console"}, TraceBasedExemplarFilter),
        ({"OTEL_METRICS_EXPORTER": "console"}, TraceBasedExemplarFilter),
        # The operator's choice wins either way.
        (
            {"OTEL_METRICS_EXPORTER": "prometheus", "OTEL_METRICS_EXEMPLAR_FILTER": "always_on"},
            AlwaysOnExemplarFilter,
        ),
        (
            {"OTEL_METRICS_EXPORTER": "console", "OTEL_METRICS_EXEMPLAR_FILTER": "ALWAYS_OFF"},
            AlwaysOffExemplarFilter,
        ),
    ],
)
def test_exemplars_are_offered_only_where_a_reader_exports_them(
    environ: dict[str, str], expected: type[ExemplarFilter]
) -> None:
    provider, _ = metrics_provider(environ, io.StringIO(), health_port=8080)
    assert provider is not None
    try:
        assert type(provider._sdk_config.exemplar_filter) is expected
    finally:
        provider.shutdown()


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"OTEL_METRICS_EXPORTER": "statsd"}, "OTEL_METRICS_EXPORTER"),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
        ({"OTEL_TRACES_EXPORTER": "prometheus"}, "OTEL_TRACES_EXPORTER"),
        ({"OTEL_TRACES_EXPORTER": "console,jaeger"}, "OTEL_TRACES_EXPORTER"),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
        (
            {"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "thrift"},
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        ),
        (
            {"OTEL_METRICS_EXPORTER": "console", "OTEL_METRIC_EXPORT_INTERVAL": "soon"},
            "OTEL_METRIC_EXPORT_INTERVAL",
        ),
        (
            {"OTEL_METRICS_EXPORTER": "console", "OTEL_METRIC_EXPORT_INTERVAL": "0"},
            "OTEL_METRIC_EXPORT_INTERVAL",
        ),
        (
            {"OTEL_METRICS_EXPORTER": "prometheus", "OTEL_METRICS_EXEMPLAR_FILTER": "sometimes"},
            "OTEL_METRICS_EXEMPLAR_FILTER",
        ),
    ],
)
def test_a_wrong_exporter_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], variable: str
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigFileError) as info:
        configure(health_port=8080)
    assert info.value.setting == variable


def test_the_given_environment_decides_not_the_process_one() -> None:
    # The process environment names nothing (the autouse fixture): only the mapping passed in.
    out = io.StringIO()
    environ = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
    assert [type(e) for e in span_exporters(environ, out)] == [HttpSpans]
    readers = metric_readers({"OTEL_METRICS_EXPORTER": "console"}, out)
    assert [type(r) for r in readers] == [PeriodicExportingMetricReader]


def test_the_per_signal_protocol_wins_over_the_general_one() -> None:
    environ = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",  # wrong, but not the one in force
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
    }
    assert [type(e) for e in span_exporters(environ)] == [GrpcSpans]


def test_an_exporter_package_that_is_not_installed_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(telemetry, "entry_points", lambda **_: ())
    with pytest.raises(ConfigFileError) as info:
        span_exporters({"OTEL_TRACES_EXPORTER": "otlp"})
    assert info.value.setting == "OTEL_TRACES_EXPORTER"
    assert "not installed" in str(info.value)
