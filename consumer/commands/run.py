"""`profile-sync run`: start-up checks, then the consumer until stopped (docs/DESIGN.md §3).

Exit codes: 0 clean stop (SIGTERM, SIGINT, `--exit-when-idle`); 1 unexpected error; 2 invalid
configuration (also a missing topic, a Kafka login or broker certificate refused at start, or a
state topic that is missing, not compacted or with another partition count than the source, a
replay topic that is missing or with another partition count); 3 AEP
configuration fault (also an AEP certificate that does not verify); 4 dead-letter guard tripped.
"""

from __future__ import annotations

import gc
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import ExitStack, closing
from pathlib import Path
from types import FrameType
from typing import Final

import structlog
from anyio.from_thread import start_blocking_portal
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from consumer.aep.envelope import EnvelopeBuilder
from consumer.aep.ims import ImsTokenProvider, ImsUnavailable
from consumer.aep.inlet_client import HttpInletSender, make_http_client
from consumer.aep.protocol import AepConfigurationFault, InletSender
from consumer.config import exit_codes
from consumer.config.loading import load_all
from consumer.config.mapper_options import options_from_settings
from consumer.config.settings import (
    AepAuthSettings,
    AepResourceSettings,
    AvroSettings,
    DeliverySettings,
    KafkaSettings,
    StateSettings,
    TelemetrySettings,
    XdmSettings,
    variable,
)
from consumer.kafka.changelog import ChangelogWriter
from consumer.kafka.connection import (
    ConnectionProblems,
    ExplainingMetadata,
    KafkaConnectError,
    refused_configuration,
)
from consumer.kafka.dead_letters import DeadLetterProducer
from consumer.kafka.lag import STATISTICS_INTERVAL_MS, LagMonitor
from consumer.kafka.partition_state import KafkaPartitionState
from consumer.kafka.properties import (
    admin_config,
    consumer_config,
    dead_letter_producer_config,
    replay_consumer_config,
)
from consumer.kafka.restore import ChangelogRestorer, restore_consumer_config
from consumer.kafka.source import KafkaCommitter, KafkaSource, ReplayFeed, TopicCommitters
from consumer.observability.health import Health, HealthServer, prometheus_text
from consumer.observability.metrics import Metrics
from consumer.pipeline.compose import Pipeline, PipelineLimits
from consumer.pipeline.errors import StopConsumer
from consumer.pipeline.guard import DeadLetterGuard
from consumer.pipeline.native_core import native_core
from consumer.pipeline.state.store import StateStores
from consumer.provisioning.startup import (
    StartupError,
    check_service_topics,
    check_topics,
    resolve_aep_target,
)
from mappers.mapper import Mapper
from schemas.avro import ConfluentRegistryClient, EventDecoder, WriterSchemaRegistry
from schemas.xdm import compile_validator

_log = structlog.get_logger(__name__)

METADATA_TIMEOUT_S: Final = 10.0
SHUTDOWN_FLUSH_S: Final = 10.0
# httpx applies it per phase (connect, write, read): a dead registry costs at most ~0.5 s.
POLL_THREAD_REGISTRY_S: Final = 0.25


def _fail(message: str, code: int) -> int:
    print(f"profile-sync run: {message}", file=sys.stderr)
    _log.error("run_stopped", reason=message, exit_code=code)
    return code


def _admin(kafka: KafkaSettings) -> AdminClient:
    return AdminClient(admin_config(kafka))


def limits_from(delivery: DeliverySettings) -> PipelineLimits:
    return PipelineLimits(
        max_records=delivery.batch_max_records,
        linger_s=delivery.batch_linger_ms / 1000,
        max_in_flight=delivery.max_in_flight_requests,
        max_buffered=delivery.max_buffered_records,
        requests_per_s=delivery.process_requests_per_s,
        records_per_s=delivery.process_records_per_s,
        retries_per_s=delivery.aep_max_retries_per_s,
        breaker_threshold=delivery.aep_breaker_failures,
        backoff_cap_s=delivery.aep_retry_backoff_cap_s,
    )


# librdkafka's default, when the Kafka settings name none.
MAX_POLL_INTERVAL_MS: Final = 300_000


def max_poll_interval_s(consumer_settings: dict[str, str]) -> float:
    return float(consumer_settings.get("max.poll.interval.ms", MAX_POLL_INTERVAL_MS)) / 1000


def run_consumer(
    config_file: Path | None,
    exit_when_idle: float | None = None,
    *,
    stop: threading.Event | None = None,
    limits: PipelineLimits | None = None,
    wrap_sender: Callable[[InletSender], InletSender] | None = None,
    metrics: Metrics | None = None,
    prometheus: bool = False,
) -> int:
    """The `run` command. `stop`, `limits`, `wrap_sender` and `metrics` are seams for in-process
    tests: an external stop signal, other batch limits, a decorator around the real inlet
    sender, instruments on a meter the test reads. `prometheus`: serve /metrics on the health
    port (the Prometheus reader is installed)."""
    kafka, telemetry = load_all(config_file, KafkaSettings, TelemetrySettings)
    # /livez answers 503 once the poll loop is silent for half of max.poll.interval.ms: well
    # before the group would throw the member out (docs/DESIGN.md §14).
    health = Health(max_poll_interval_s(consumer_config(kafka)) / 2)
    server = None
    if telemetry.health_port:
        try:
            server = HealthServer(
                health, telemetry.health_port, metrics=prometheus_text if prometheus else None
            ).start()
        except OSError as exc:
            return _fail(
                f"{variable('health_port')}: port {telemetry.health_port} cannot be served "
                f"({exc.strerror})",
                exit_codes.USAGE,
            )
    try:
        return _run(config_file, exit_when_idle, stop, limits, wrap_sender, metrics, health)
    finally:
        if server is not None:
            server.close()


def _run(
    config_file: Path | None,
    exit_when_idle: float | None,
    stop: threading.Event | None,
    limits: PipelineLimits | None,
    wrap_sender: Callable[[InletSender], InletSender] | None,
    metrics: Metrics | None,
    health: Health,
) -> int:
    kafka, avro, xdm, auth, resources, delivery, state = load_all(
        config_file,
        KafkaSettings,
        AvroSettings,
        XdmSettings,
        AepAuthSettings,
        AepResourceSettings,
        DeliverySettings,
        StateSettings,
    )
    try:
        # Looks unset ids up by name and reads the schema once (exit 3 when it does not fit).
        target = resolve_aep_target(auth, resources, xdm)
        options = options_from_settings(xdm, target.tenant_id)
        core = native_core(
            options, enabled=delivery.native_core, own_schemas=avro.avro_schema_dir is not None
        )
    except StartupError as exc:
        return _fail(str(exc), exc.exit_code)
    except ValueError as exc:
        return _fail(str(exc), exit_codes.USAGE)

    registry = WriterSchemaRegistry.load(avro.avro_schema_dir)
    confluent = (
        # Lookups run on the poll thread, which must never block for a second: a registry that
        # is down answers TransientDecodeError quickly and the source pauses and offers again.
        ConfluentRegistryClient(str(avro.schema_registry_url), timeout_s=POLL_THREAD_REGISTRY_S)
        if avro.schema_registry_url is not None
        else None
    )
    # No datetimes made of the timestamps while decoding: the mapper reads epoch milliseconds.
    decoder = EventDecoder(registry, confluent, timestamps_as_millis=True)
    mapper = Mapper(options)
    validator = compile_validator(options.xdm)

    consumer_settings = consumer_config(kafka)
    # Refused SASL logins and unverifiable certificates reach only this callback (exit 2).
    problems = ConnectionProblems(kafka.secret_values())
    # The lag gauge reads librdkafka's statistics (kept off the record path).
    lag = LagMonitor()
    statistics = {"statistics.interval.ms": str(STATISTICS_INTERVAL_MS), **consumer_settings}
    try:
        consumer = Consumer({**statistics, "error_cb": problems, "stats_cb": lag.on_stats})
    except KafkaException as exc:
        return _fail(refused_configuration(exc, kafka.secret_values()), exit_codes.USAGE)
    try:
        # The consumer's metadata request first: it explains refused logins (exit 2).
        metadata = check_topics(ExplainingMetadata(consumer, problems), kafka, METADATA_TIMEOUT_S)
        # None when the topic's configuration is unreadable: the producer keeps its own bound.
        dead_letter_limit = check_service_topics(_admin(kafka), kafka, METADATA_TIMEOUT_S, metadata)
        producer = Producer(dead_letter_producer_config(kafka, dead_letter_limit))
    except KafkaConnectError as exc:
        consumer.close()
        return _fail(exc.message, exc.exit_code)
    except KafkaException as exc:
        consumer.close()
        return _fail(refused_configuration(exc, kafka.secret_values()), exit_codes.USAGE)
    except StartupError as exc:
        consumer.close()
        return _fail(str(exc), exc.exit_code)

    # Every HTTP call runs on one event loop in a thread of its own; the poll thread hands
    # requests over and never waits on them.
    http_thread = ExitStack()
    portal = http_thread.enter_context(start_blocking_portal(name="profile-sync-http"))
    client = make_http_client(delivery, auth.aep_ca_bundle)
    tokens = ImsTokenProvider(client, auth, timeout_s=delivery.aep_request_timeout_s)
    sender = HttpInletSender(
        client,
        tokens,
        EnvelopeBuilder(
            schema_id=target.schema_id,
            org_id=auth.aep_org_id,
            dataset_id=target.dataset_id,
            flow_id=target.flow_id,
        ),
        inlet_url=target.inlet_url,
        org_id=auth.aep_org_id,
        api_key=auth.aep_client_id,
        sandbox=auth.aep_sandbox,
        flow_id=target.flow_id,
        timeout_s=delivery.aep_request_timeout_s,
    )
    inlet: InletSender = wrap_sender(sender) if wrap_sender is not None else sender
    # Closed after the consumer's last release (the stores' checkpoints are saved then).
    finish = ExitStack()
    try:
        try:
            # Credentials first: a wrong secret stops the process before it consumes anything.
            portal.start_task_soon(tokens.token).result(delivery.aep_request_timeout_s + 5)
        except AepConfigurationFault as exc:
            consumer.close()
            return _fail(f"AEP configuration fault: {exc}", exit_codes.AEP_CONFIG_FAULT)
        except ImsUnavailable as exc:
            # IMS down is transient: the sender retries; start anyway.
            _log.warning("ims_unavailable_at_start", reason=exc.reason)
        auto_commit = consumer_settings.get("enable.auto.commit", "true").lower() == "true"
        instruments = metrics or Metrics()
        guard = DeadLetterGuard(
            delivery.dlq_guard_window_s,
            delivery.dlq_guard_min_records,
            delivery.dlq_guard_max_share,
            on_trip=lambda: instruments.guard_tripped.add(1),
        )
        pipeline_limits = limits or limits_from(delivery)
        # The stale-update guard (docs/DESIGN.md §11): a store per owned partition, restored
        # from the changelog on assignment; marks share the dead-letter producer (both are
        # idempotent, acks=all, and served by the same poll).
        stores = StateStores(state.state_dir, kafka.state_topic)
        partition_state = finish.enter_context(
            closing(
                KafkaPartitionState(
                    stores,
                    ChangelogRestorer(
                        Consumer(restore_consumer_config(kafka)),
                        kafka.state_topic,
                        stores,
                        instruments,
                    ),
                    instruments,
                )
            )
        )
        # The replay topic's reader (docs/DESIGN.md §12): assigned by the source, never
        # subscribed; its positions are committed under `{group_id}.replay`.
        replay_consumer = Consumer({**replay_consumer_config(kafka), "error_cb": problems})
        committer = TopicCommitters(
            {
                kafka.topic: KafkaCommitter(consumer, instruments, auto_commit, guard.cap),
                kafka.replay_topic: KafkaCommitter(
                    replay_consumer, instruments, auto_commit, guard.cap
                ),
            }
        )
        pipeline = Pipeline(
            decoder=decoder,
            mapper=mapper,
            validator=validator,
            core=core,
            sender=inlet,
            portal=portal,
            dead_letters=lambda accounted: DeadLetterProducer(
                producer, kafka.dlq_topic, accounted, instruments, guard=guard
            ),
            committer=committer,
            limits=pipeline_limits,
            metrics=instruments,
            ready_at=target.ready_at,
            guard=guard,
            state=partition_state,
            marks=lambda accounted: ChangelogWriter(
                producer, kafka.state_topic, stores, accounted, instruments
            ),
            replay_topic=kafka.replay_topic,
        )
        lag.attach(pipeline.owned, pipeline.oldest_unaccounted)
        instruments.observe_lag(lag.lag, lag.oldest_age)

        def on_tick(now: float) -> None:
            health.tick(now)
            lag.sample(now)

        source = KafkaSource(
            consumer,
            kafka.topic,
            pipeline,
            committer=committer,
            metrics=instruments,
            revoke_timeout_s=delivery.revoke_timeout_s,
            on_tick=on_tick,
            replay=ReplayFeed(replay_consumer, kafka.replay_topic),
        )
        # Ready once in the group: the member id is known from the group's join answer on.
        health.checks_passed(lambda: bool(consumer.memberid()))
        _settle_garbage_collector()
        return _consume(source, exit_when_idle, stop or threading.Event())
    finally:
        lag.detach()
        producer.flush(SHUTDOWN_FLUSH_S)
        finish.close()
        try:
            portal.start_task_soon(client.aclose).result(5)
        finally:
            # Requests still waiting to be retried (a record AEP keeps refusing) are cancelled,
            # not awaited: their records are not committed, so the next owner sends them.
            portal.call(portal.stop, True)
            http_thread.close()
        if confluent is not None:
            confluent.close()


def _consume(source: KafkaSource, exit_when_idle: float | None, stop: threading.Event) -> int:
    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        _log.info("stop_requested", signal=signal.Signals(signum).name)
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        _log.info("consumer_started", topic_variable=variable("topic"))
        # Start-up objects (schemas, country tables, validators) live as long as the run: frozen,
        # the collector's full passes walk only what the records make. Thawed in `finally`.
        gc.collect()
        gc.freeze()
        source.run(stop, exit_when_idle)
    except StopConsumer as exc:
        _shutdown_quietly(source)
        return _fail(str(exc), exc.exit_code)
    except Exception as exc:
        _log.exception("consumer_failed")
        _shutdown_quietly(source)
        return _fail(f"unexpected error: {type(exc).__name__}", exit_codes.ERROR)
    finally:
        gc.unfreeze()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    try:
        source.shutdown()
    except StopConsumer as exc:
        return _fail(str(exc), exc.exit_code)
    _log.info("consumer_stopped", polled=source.polled)
    return exit_codes.OK


def _shutdown_quietly(source: KafkaSource) -> None:
    try:
        source.shutdown()
    except Exception:
        _log.exception("shutdown_after_fault_failed")


def _settle_garbage_collector() -> None:
    """What start-up built (schemas, validators, clients, settings) lives as long as the
    process: frozen out of the collector's walks, which otherwise stall the poll thread for tens
    of milliseconds (a latency spike) each time the oldest generation is collected. (Collecting
    the young generation less often saved a little CPU but cost 40 MB of peak memory.)"""
    gc.freeze()
