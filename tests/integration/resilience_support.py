"""Helpers of the resilience scenarios: the consumer in a thread, metrics read back from an
in-memory OpenTelemetry reader, the group's members as the broker sees them."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from confluent_kafka import ConsumerGroupState
from confluent_kafka.admin import AdminClient
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)

from consumer.commands.run import run_consumer
from consumer.observability import metric_names as names
from consumer.observability.metrics import Metrics
from tests.integration.run_support import Produced


def set_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in [n for n in os.environ if n.startswith("PROFILE_SYNC_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


class ReadableMetrics:
    """The consumer's instruments on a private meter whose values the test reads."""

    def __init__(self) -> None:
        self._reader = InMemoryMetricReader()
        self.metrics = Metrics(MeterProvider([self._reader]).get_meter("test"))

    def _points(self, name: str) -> list[Any]:
        data = self._reader.get_metrics_data()
        points: list[Any] = []
        if data is None:
            return points
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points

    def total(self, name: str, **attributes: str) -> float:
        found = 0.0
        for point in self._points(name):
            if not isinstance(point, NumberDataPoint):
                continue
            labels = point.attributes or {}
            if all(labels.get(k) == v for k, v in attributes.items()):
                found += point.value
        return found

    def peak(self, name: str) -> float:
        peaks = [p.max for p in self._points(name) if isinstance(p, HistogramDataPoint)]
        return max(peaks, default=0.0)

    def rebalances(self, kind: str) -> float:
        return self.total(names.REBALANCES, kind=kind)


@dataclass
class Running:
    """`run_consumer` in a thread of this process."""

    stop: threading.Event
    thread: threading.Thread
    metrics: ReadableMetrics
    result: list[int] = field(default_factory=list)

    def wait(self, timeout: float) -> int:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the consumer did not stop in time"
        assert len(self.result) == 1
        return self.result[0]


def start_consumer(exit_when_idle: float | None = None) -> Running:
    readable = ReadableMetrics()
    stop = threading.Event()
    result: list[int] = []

    def body() -> None:
        result.append(run_consumer(None, exit_when_idle, stop=stop, metrics=readable.metrics))

    thread = threading.Thread(target=body, daemon=True)
    running = Running(stop, thread, readable, result)
    thread.start()
    return running


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def group_members(bootstrap: str, group: str) -> dict[str, set[int]]:
    """Member id -> assigned partitions, as the group coordinator reports them."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    found = admin.describe_consumer_groups([group], request_timeout=10)[group].result(timeout=15)
    if found.state not in (ConsumerGroupState.STABLE, ConsumerGroupState.COMPLETING_REBALANCING):
        return {}
    return {
        m.member_id: {tp.partition for tp in m.assignment.topic_partitions} for m in found.members
    }


def merged(*parts: Produced) -> Produced:
    whole = Produced()
    for part in parts:
        whole.events.update(part.events)
        whole.values.update(part.values)
    return whole
