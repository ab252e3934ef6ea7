"""`run`'s observability against real parts (docs/DESIGN.md §14): spans exported over OTLP to a real
Jaeger, Prometheus metrics with the lag gauges on the health port, and the probes.

Every `run` here is a child process configured by the OTEL_* variables alone, as in a pod.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from confluent_kafka import Producer

from consumer.kafka.dead_letters import H_CLASS, H_TRACEPARENT
from devenv.jaeger_tool import Jaeger
from devenv.kafka_local import Broker, free_port
from tests.aep_emulator.emulator_helpers import ORG
from tests.integration.run_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    Coordinates,
    aep_target,
    consumer_env,
    ordering_key,
    produce_sample,
    read_topic,
)
from tests.support.kafka import TopicFactory

PROFILE_SYNC = str(Path(sys.executable).with_name("profile-sync"))
# An incoming trace context, as an upstream producer would have set it.
UPSTREAM_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
UPSTREAM = f"00-{UPSTREAM_TRACE}-00f067aa0ba902b7-01"


def _env(base: dict[str, str], **extra: str) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("PROFILE_SYNC_", "OTEL_"))}
    return {**kept, **base, **extra}


def _run_until_idle(env: dict[str, str], idle_s: float = 2.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROFILE_SYNC, "run", "--exit-when-idle", str(idle_s)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _tags(span: dict[str, Any]) -> dict[str, Any]:
    return {tag["key"]: tag["value"] for tag in span.get("tags", [])}


def _traces(jaeger: Jaeger, service: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{jaeger.query_url}/api/traces",
        params={"service": service, "limit": 2000, "lookback": "1h"},
        timeout=30,
    )
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()["data"] or []
    return data


def _spans(traces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [span for trace in traces for span in trace["spans"]]


def _eventually(check: Callable[[], Any], timeout: float = 30.0, every: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)


def _produce_with_traceparent(bootstrap: str, topic: str, value: bytes, key: bytes) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    producer.produce(topic, value=value, key=key, headers=[("traceparent", UPSTREAM.encode())])
    assert producer.flush(30) == 0


# ------------------------------------------------------------------------------------- traces


@pytest.mark.slow
def test_run_exports_aep_retries_and_dead_letters_to_jaeger(
    kafka_broker: Broker, make_topics: TopicFactory, jaeger: Jaeger
) -> None:
    topics = make_topics(partitions=2)
    service = f"profile-sync-it-{uuid.uuid4().hex[:8]}"
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 300, seed=7, poison_share=0.05)
    assert produced.poison
    # A copy of a customer's newest version that came with an upstream trace context: it is
    # sent (nothing newer supersedes it), and its batch links to the upstream trace.
    newest: dict[str, tuple[tuple[int, int, int], Coordinates]] = {}
    for coords, event in produced.events.items():
        if not event.is_poison:
            key = ordering_key(event, coords[2])
            if event.key not in newest or newest[event.key][0] < key:
                newest[event.key] = (key, coords)
    _, good = next(iter(newest.values()))
    event = produced.events[good]
    _produce_with_traceparent(
        kafka_broker.bootstrap, topics.name, produced.values[good], event.key.encode()
    )
    with aep_target() as target:
        # Some requests fail with 503: their retries are spans of their own.
        target.faults({"error_rate": 0.5, "statuses": [503]})
        env = _env(
            consumer_env(kafka_broker.bootstrap, topics, target),
            OTEL_SERVICE_NAME=service,
            OTEL_TRACES_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
            OTEL_EXPORTER_OTLP_ENDPOINT=jaeger.otlp_grpc_endpoint,
            OTEL_BSP_SCHEDULE_DELAY="200",
            PROFILE_SYNC_BATCH_MAX_RECORDS="10",
            PROFILE_SYNC_AEP_RETRY_BACKOFF_CAP_S="0.2",
        )
        done = _run_until_idle(env)
        assert done.returncode == 0, done.stderr[-3000:]
        statuses = target.stats()["requests"]["by_status"]
    assert statuses.get("503", 0) > 0, statuses

    spans = _eventually(
        lambda: [
            s for s in _spans(_traces(jaeger, service)) if _tags(s).get("http.response.status_code")
        ]
    )
    posts = [s for s in spans if s["operationName"] == "POST"]
    assert posts, "no AEP request spans in Jaeger"
    tags = [_tags(s) for s in posts]
    assert {t["http.request.method"] for t in tags} == {"POST"}
    assert {t["server.address"] for t in tags} == {"127.0.0.1"}
    assert all("/collection/batch/" in t["url.full"] and "?" not in t["url.full"] for t in tags)
    assert {207, 503} <= {int(t["http.response.status_code"]) for t in tags}
    resent = [t for t in tags if int(t.get("http.request.resend_count", 0)) > 0]
    assert resent, "no retry attempt carries http.request.resend_count"
    assert {t["error.type"] for t in tags if int(t["http.response.status_code"]) == 503} == {"503"}

    # The batch that carried the upstream record links to the upstream trace.
    everything = _spans(_traces(jaeger, service))
    linked = [
        s
        for s in everything
        if any(ref["traceID"] == UPSTREAM_TRACE for ref in s.get("references", []))
    ]
    delivers = [s for s in everything if s["operationName"] == "profile_sync deliver"]
    assert any(s["operationName"] == "profile_sync deliver" for s in linked), (
        "no link upstream",
        [s.get("references") for s in delivers][:5],
        len(delivers),
    )
    # Changelog (state) writes are producer spans with the messaging conventions.
    state = [s for s in everything if s["operationName"] == f"send {topics.state}"]
    assert state
    assert _tags(state[0])["messaging.system"] == "kafka"
    assert _tags(state[0])["messaging.destination.name"] == topics.state
    assert _tags(state[0])["messaging.operation.type"] == "send"

    # Every dead letter names, in profile_sync.traceparent, a trace Jaeger returns, whose write
    # span holds the error class and no personal data.
    assert topics.dlq is not None
    dead = read_topic(kafka_broker.bootstrap, topics.dlq)
    assert len(dead) == len(produced.poison)
    for message in dead:
        headers = {k: v.decode() for k, v in message.headers() if v is not None}
        version, trace_id, span_id, _ = headers[H_TRACEPARENT].split("-")
        assert version == "00"
        found = _eventually(lambda t=trace_id: _trace(jaeger, t))
        assert found, f"Jaeger has no trace {trace_id}"
        (span,) = [s for s in found["spans"] if s["spanID"] == span_id]
        span_tags = _tags(span)
        assert span["operationName"] == f"send {topics.dlq}"
        assert span_tags["profile_sync.error.class"] == headers[H_CLASS]
        assert span_tags["messaging.destination.name"] == topics.dlq
        assert span_tags["span.kind"] == "producer"
    _assert_no_personal_data(everything, produced.events.values())
    # The operator's way in: `dlq show` prints the trace context of a dead letter.
    first = dead[0]
    shown = subprocess.run(
        [PROFILE_SYNC, "dlq", "show", f"{first.partition()}:{first.offset()}", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    expected = dict(first.headers())[H_TRACEPARENT].decode()
    assert orjson.loads(shown.stdout)["traceparent"] == expected


def _trace(jaeger: Jaeger, trace_id: str) -> dict[str, Any] | None:
    response = httpx.get(f"{jaeger.query_url}/api/traces/{trace_id}", timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    data = response.json()["data"]
    return data[0] if data else None


def _assert_no_personal_data(spans: list[dict[str, Any]], events: Any) -> None:
    text = orjson.dumps([s.get("tags") for s in spans]).decode()
    for event in events:
        customer = event.datum.get("customer") if isinstance(event.datum, dict) else None
        if not isinstance(customer, dict):
            continue
        for field in ("email", "firstname", "lastname"):
            value = customer.get(field)
            if isinstance(value, str) and len(value) > 3:
                assert value not in text, f"a {field} reached a span attribute"


def test_otlp_over_http_protobuf_reaches_jaeger(
    kafka_broker: Broker, make_topics: TopicFactory, jaeger: Jaeger
) -> None:
    topics = make_topics(partitions=1)
    service = f"profile-sync-http-{uuid.uuid4().hex[:8]}"
    produce_sample(kafka_broker.bootstrap, topics.name, 10, seed=3)
    with aep_target() as target:
        env = _env(
            consumer_env(kafka_broker.bootstrap, topics, target),
            OTEL_SERVICE_NAME=service,
            OTEL_TRACES_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            OTEL_EXPORTER_OTLP_ENDPOINT=jaeger.otlp_http_endpoint,
        )
        done = _run_until_idle(env, 1.0)
        assert done.returncode == 0, done.stderr[-3000:]
    spans = _eventually(lambda: _spans(_traces(jaeger, service)))
    assert any(s["operationName"] == "POST" for s in spans)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OTEL_TRACES_EXPORTER", "zipkin"),
        ("OTEL_METRICS_EXPORTER", "statsd"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
    ],
)
def test_a_wrong_exporter_value_exits_2_naming_the_variable(variable: str, value: str) -> None:
    extra = {variable: value}
    if variable == "OTEL_EXPORTER_OTLP_PROTOCOL":
        extra["OTEL_TRACES_EXPORTER"] = "otlp"
    done = subprocess.run(
        [PROFILE_SYNC, "run"],
        env=_env({}, **extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert variable in done.stderr


# ------------------------------------------------------------------- metrics, lag and probes


@contextmanager
def _running(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [PROFILE_SYNC, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _get(port: int, path: str) -> httpx.Response | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    except httpx.TransportError:
        return None


def _samples(port: int, name: str) -> dict[str, float]:
    """Prometheus samples of one metric, by their label text."""
    response = _get(port, "/metrics")
    assert response is not None
    assert response.status_code == 200
    found = {}
    for line in response.text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            labels, _, value = line.rpartition(" ")
            found[labels[len(name) :]] = float(value)
    return found


LAG = "profile_sync_consumer_lag"
OLDEST = "profile_sync_records_oldest_unaccounted_age_seconds"


@pytest.mark.slow
def test_prometheus_metrics_and_probes_follow_the_consumer(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=2)
    port = free_port()
    produce_sample(kafka_broker.bootstrap, topics.name, 40, seed=11)
    with aep_target() as target:
        env = _env(
            consumer_env(
                kafka_broker.bootstrap,
                topics,
                target,
                PROFILE_SYNC_KAFKA_CONSUMER_CONFIG=orjson.dumps(
                    {
                        "session.timeout.ms": 6000,
                        "heartbeat.interval.ms": 500,
                        "statistics.interval.ms": 300,
                        "auto.commit.interval.ms": 300,
                    }
                ).decode(),
            ),
            PROFILE_SYNC_HEALTH_PORT=str(port),
            OTEL_METRICS_EXPORTER="prometheus",
        )
        with _running(env) as process:
            ready = _eventually(
                lambda: (r := _get(port, "/readyz")) is not None and r.status_code == 200, 60
            )
            assert ready, process.stderr.read() if process.poll() is not None else "not ready"
            live = _get(port, "/livez")
            assert live is not None
            assert live.status_code == 200
            # Caught up: both partitions report, with nothing behind.
            caught_up = _eventually(
                lambda: len(lag := _samples(port, LAG)) == 2 and not any(lag.values()), 60
            )
            assert caught_up, _samples(port, LAG)
            # AEP slows down while events keep coming: the consumer falls behind, and its oldest
            # unaccounted records age.
            target.faults({"latency_ms": 2500})
            produce_sample(kafka_broker.bootstrap, topics.name, 300, seed=12)
            behind = _eventually(lambda: sum(_samples(port, LAG).values()) > 0, 30, 0.2)
            assert behind, _samples(port, LAG)
            aged = _eventually(lambda: max(_samples(port, OLDEST).values()) >= 1.0, 30, 0.2)
            assert aged, _samples(port, OLDEST)
            target.faults({})
            back = _eventually(
                lambda: (lag := _samples(port, LAG)) and not any(lag.values()), 60, 0.3
            )
            assert back, _samples(port, LAG)
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            for name in (
                "profile_sync_records_in_total",
                "profile_sync_records_delivered_total",
                "profile_sync_aep_request_duration_seconds_bucket",
                "profile_sync_batch_records_bucket",
                LAG,
                OLDEST,
            ):
                assert name in text, name
            assert 'partition="0"' in text
            assert 'partition="1"' in text
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0


def test_readyz_never_answers_200_when_a_start_up_check_fails(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=1)
    port = free_port()
    with aep_target() as target:
        # Slow Platform answers keep start-up going for a while, then the check fails: the
        # dead-letter topic does not exist.
        target.faults({"latency_ms": 800, "scope": "platform"})
        env = _env(
            consumer_env(kafka_broker.bootstrap, topics, target),
            PROFILE_SYNC_HEALTH_PORT=str(port),
            PROFILE_SYNC_DLQ_TOPIC=f"missing-{uuid.uuid4().hex[:6]}",
        )
        answers: list[int] = []
        with _running(env) as process:
            while process.poll() is None:
                response = _get(port, "/readyz")
                if response is not None:
                    answers.append(response.status_code)
                    live = _get(port, "/livez")
                    assert live is None or live.status_code == 200
                time.sleep(0.05)
            assert process.returncode == 2, process.stderr.read()[-2000:]
    assert answers, "the health server never answered during start-up"
    assert set(answers) == {503}


def test_livez_answers_503_while_the_poll_thread_is_blocked(
    kafka_broker: Broker,
    make_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from consumer.commands.run import run_consumer
    from consumer.pipeline.compose import Pipeline

    topics = make_topics(partitions=1)
    port = free_port()
    produce_sample(kafka_broker.bootstrap, topics.name, 5, seed=5)
    block = threading.Event()
    released = threading.Event()
    original = Pipeline.poll

    def poll(self: Pipeline) -> None:
        if block.is_set():
            released.wait(30)  # the poll thread is stuck here
        original(self)

    monkeypatch.setattr(Pipeline, "poll", poll)
    with aep_target() as target:
        env = consumer_env(
            kafka_broker.bootstrap,
            topics,
            target,
            PROFILE_SYNC_HEALTH_PORT=str(port),
            PROFILE_SYNC_REVOKE_TIMEOUT_S="5",
            PROFILE_SYNC_AEP_REQUEST_TIMEOUT_S="3",
            # /livez allows max.poll.interval.ms / 2 = 4 s of silence.
            PROFILE_SYNC_KAFKA_CONSUMER_CONFIG=orjson.dumps(
                {
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 500,
                    "max.poll.interval.ms": 8000,
                }
            ).decode(),
        )
        for name in [n for n in os.environ if n.startswith("PROFILE_SYNC_")]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        stop = threading.Event()
        result: list[int] = []
        thread = threading.Thread(
            target=lambda: result.append(run_consumer(None, stop=stop)), daemon=True
        )
        thread.start()
        try:
            assert _eventually(
                lambda: (r := _get(port, "/readyz")) is not None and r.status_code == 200, 60
            )
            live = _get(port, "/livez")
            assert live is not None
            assert live.status_code == 200
            block.set()
            blocked_at = time.monotonic()
            dead = _eventually(
                lambda: (r := _get(port, "/livez")) is not None and r.status_code == 503, 7, 0.1
            )
            stalled_for = time.monotonic() - blocked_at
            assert dead, "/livez kept answering 200 with the poll thread blocked"
            assert stalled_for >= 3.5  # not before max.poll.interval.ms / 2
            block.clear()
            released.set()
            assert _eventually(
                lambda: (r := _get(port, "/livez")) is not None and r.status_code == 200, 5, 0.1
            )
        finally:
            released.set()
            stop.set()
            thread.join(60)
    assert result == [0]
    # The server went away with the run.
    assert _get(port, "/livez") is None


def test_init_traces_its_platform_calls(
    kafka_broker: Broker, make_topics: TopicFactory, jaeger: Jaeger
) -> None:
    topics = make_topics(partitions=1, dlq=False, state=False)
    service = f"profile-sync-init-{uuid.uuid4().hex[:8]}"
    with aep_target() as target:
        env = _env(
            {
                "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap,
                "PROFILE_SYNC_TOPIC": topics.name,
                "PROFILE_SYNC_GROUP_ID": topics.name,
                "PROFILE_SYNC_AEP_IMS_URL": target.url,
                "PROFILE_SYNC_AEP_PLATFORM_URL": target.url,
                "PROFILE_SYNC_AEP_CLIENT_ID": CLIENT_ID,
                "PROFILE_SYNC_AEP_CLIENT_SECRET": CLIENT_SECRET,
                "PROFILE_SYNC_AEP_ORG_ID": ORG,
                "PROFILE_SYNC_AEP_SCHEMA_TITLE": f"Traced {service}",
            },
            OTEL_SERVICE_NAME=service,
            OTEL_TRACES_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            OTEL_EXPORTER_OTLP_ENDPOINT=jaeger.otlp_http_endpoint,
        )
        done = subprocess.run(
            [PROFILE_SYNC, "init", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    spans = _eventually(lambda: _spans(_traces(jaeger, service)))
    tags = [_tags(s) for s in spans if _tags(s).get("span.kind") == "client"]
    methods = {t["http.request.method"] for t in tags}
    assert {"GET", "POST"} <= methods, methods
    assert all(t["url.full"].startswith(target.url + "/data/") for t in tags)
    # Look-ups by title go in the query: never in url.full (titles could name anything).
    assert not any("?" in t["url.full"] or service in t["url.full"] for t in tags)
    assert all("http.response.status_code" in t for t in tags)
