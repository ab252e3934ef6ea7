"""Tracing cost: consumer CPU per record with tracing off and on, in the same run.

Saturated runs (`paired_cost`), PAIRS of each, in the order off, on, on, off: off is
`OTEL_TRACES_EXPORTER=none`, on is `otlp` with the default protocol (gRPC) to a real Jaeger
started for the figure (devenv/jaeger_tool.py), batch span processor with the SDK's defaults.
The figure is on / off - 1 of the medians; the target is at most +15 %. The same comparison with
`OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf` follows as a detail line.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.figures.common import Context, Figure
from bench.figures.paired_cost import paired
from devenv.jaeger_tool import Jaeger, start_jaeger

NAME = "tracing cost"
TARGET = 0.15
PAIRS = 2


def _traces_stored(jaeger: Jaeger, service: str) -> int:
    import httpx

    response = httpx.get(
        f"{jaeger.query_url}/api/traces",
        params={"service": service, "limit": 100000, "lookback": "1h"},
        timeout=60,
    )
    return len(response.json().get("data") or [])


def measure(ctx: Context) -> Figure:
    events = 12_000 if ctx.quick else 60_000
    pairs = 1 if ctx.quick else PAIRS
    off_env = {"OTEL_TRACES_EXPORTER": "none"}
    with tempfile.TemporaryDirectory(prefix="bench-jaeger-") as work:
        jaeger = start_jaeger(Path(work))
        try:
            on_env = {
                "OTEL_TRACES_EXPORTER": "otlp",
                # The default, named: a protocol set in the caller's environment must not win.
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_ENDPOINT": jaeger.otlp_grpc_endpoint,
                "OTEL_SERVICE_NAME": "profile-sync-bench",
            }
            http_env = {
                **on_env,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_ENDPOINT": jaeger.otlp_http_endpoint,
            }
            runs = paired(ctx, events, pairs, off_env, on_env, "tracing")
            http = paired(ctx, events, pairs, off_env, http_env, "tracing-http")
            time.sleep(2)  # the last batch of spans
            stored = _traces_stored(jaeger, "profile-sync-bench")
        finally:
            jaeger.stop()
    return Figure(
        NAME,
        runs.measured(),
        f"<= +{TARGET:.0%}",
        runs.extra <= TARGET,
        [
            runs.runs("OTLP gRPC to Jaeger")
            + f" ({events:,} events per run, order off, on, on, off; medians compared)",
            runs.by_thread(),
            f"with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf instead: {http.measured()}; "
            + http.runs("OTLP http/protobuf to Jaeger"),
            http.by_thread(),
            f"traces Jaeger stored from the traced runs: {stored:,}",
        ],
    )
