"""Tracing cost: consumer CPU per record with tracing off and on, in the same run.

Saturated runs as in `saturation` (a backlog on fresh topics, one `profile-sync run` child until
idle, CPU over the 10-90 % window of what the emulator received), alternating off / on, PAIRS
times each: off is `OTEL_TRACES_EXPORTER=none`, on is `otlp` (gRPC) to a real Jaeger started for
the figure (devenv/jaeger_tool.py), batch span processor with the SDK's defaults. The figure is
on / off - 1 of the medians; the target is at most +15 %.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.figures.common import Context, Figure, Sampler, stats_probe, time_at_fraction, value_at
from devenv.jaeger_tool import Jaeger, start_jaeger
from devenv.stack import wait_consumer

NAME = "tracing cost"
TARGET = 0.15
WINDOW = (0.1, 0.9)
PAIRS = 2


def _cpu_per_record_us(ctx: Context, events: int, otel: dict[str, str], label: str) -> float:
    stack = ctx.stack
    topics = ctx.fresh_topics(f"tracing-{label}", 6)
    stack.produce(events, seed=13, topic=topics.topic)
    stack.reset_emulator()
    started = time.monotonic()
    process = stack.start_consumer(
        ctx.config,
        exit_when_idle=3.0,
        env={**ctx.consumer_env(topics), **otel},
        name=f"run-tracing-{label}",
    )
    with Sampler(stats_probe(ctx, [process.pid]), 0.2) as sampler:
        finished = wait_consumer(process, started)
    if finished.returncode != 0:
        raise RuntimeError(f"run ({label}) exited {finished.returncode}")
    result = stack.account(topics.topic, topics.dlq_topic)
    times, received = sampler.series("received")
    cpu_times, cpu = sampler.series(f"cpu.{process.pid}")
    t_lo = time_at_fraction(times, received, WINDOW[0])
    t_hi = time_at_fraction(times, received, WINDOW[1])
    records = (WINDOW[1] - WINDOW[0]) * result.delivered
    spent = value_at(cpu_times, cpu, t_hi) - value_at(cpu_times, cpu, t_lo)
    return spent / max(records, 1) * 1e6


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
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_ENDPOINT": jaeger.otlp_grpc_endpoint,
                "OTEL_SERVICE_NAME": "profile-sync-bench",
            }
            off: list[float] = []
            on: list[float] = []
            for i in range(pairs):
                off.append(_cpu_per_record_us(ctx, events, off_env, f"off{i}"))
                on.append(_cpu_per_record_us(ctx, events, on_env, f"on{i}"))
            time.sleep(2)  # the last batch of spans
            stored = _traces_stored(jaeger, "profile-sync-bench")
        finally:
            jaeger.stop()
    off_us, on_us = statistics.median(off), statistics.median(on)
    extra = on_us / off_us - 1
    return Figure(
        NAME,
        f"{extra:+.1%} ({off_us:.0f} -> {on_us:.0f} us)",
        f"<= +{TARGET:.0%}",
        extra <= TARGET,
        [
            f"CPU per delivered record, tracing off: {', '.join(f'{v:.0f}' for v in off)} us; "
            f"on (OTLP gRPC to Jaeger): {', '.join(f'{v:.0f}' for v in on)} us "
            f"({events:,} events per run, alternating, medians compared)",
            f"traces Jaeger stored from the traced runs: {stored:,}",
        ],
    )
