"""The session's real Kafka broker and unique, pre-created topics for integration tests.

One broker per test session (started lazily by the first test that asks for it), on free loopback
ports in a temporary directory, with `auto.create.topics.enable=false` as in production.

A second, secure broker (`secure_session_broker`) adds a SASL_SSL listener (SCRAM-SHA-512 over
TLS) and an mTLS listener, with certificates from a throwaway CA. Only the tests that need it
start it, so the plaintext broker stays fast.
"""

from __future__ import annotations

import gc
import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devenv import kafka_local
from devenv.tls import Authority, CertificateFiles
from tests.support.leak_sweep import register_secret, watch_file

# Generous: a loaded 2-core CI box may need far longer than the usual 4-5 s.
READY_TIMEOUT_S = float(os.environ.get("PROFILE_SYNC_TEST_KAFKA_READY_TIMEOUT_S", "120"))

TEST_BROKER_OVERRIDES: Mapping[str, str] = {"auto.create.topics.enable": "false"}
# What `profile-sync init` gives the state topic.
STATE_TOPIC_CONFIG: Mapping[str, str] = {"cleanup.policy": "compact"}

SCRAM_USER = "profile-sync-it"
# Random per session, so that the leak sweep can look for it with no false positive.
SCRAM_PASSWORD = register_secret(
    f"scram-{secrets.token_hex(12)}", "SCRAM password of the secure broker"
)


@dataclass(frozen=True)
class Topics:
    """A unique main topic and, when asked for, its dead-letter topic (`<name>.dlq`) and its
    compacted state (changelog) topic (`<name>.state`), and its replay topic (`<name>.replay`)."""

    name: str
    dlq: str | None
    partitions: int
    state: str | None = None
    replay: str | None = None


class TopicFactory:
    """`make_topics(partitions=3, dlq=True)` creates fresh topics and waits until usable: the
    source topic, its dead-letter topic and its compacted state topic (`state=False`: none)."""

    def __init__(self, bootstrap: str, prefix: str = "test") -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.created: list[str] = []

    def __call__(
        self,
        partitions: int = 1,
        dlq: bool = True,
        *,
        dlq_partitions: int | None = None,
        config: Mapping[str, str] | None = None,
        state: bool = True,
        state_partitions: int | None = None,
        state_config: Mapping[str, str] | None = None,
        replay: bool = True,
    ) -> Topics:
        name = f"{self.prefix}.{uuid.uuid4().hex[:12]}"
        wanted = {name: partitions}
        dlq_name = f"{name}.dlq" if dlq else None
        if dlq_name is not None:
            wanted[dlq_name] = dlq_partitions or partitions
        kafka_local.create_topics(self.bootstrap, wanted, config)
        self.created.extend(wanted)
        state_name = f"{name}.state" if state else None
        if state_name is not None:
            kafka_local.create_topics(
                self.bootstrap,
                {state_name: state_partitions or partitions},
                STATE_TOPIC_CONFIG if state_config is None else state_config,
            )
            self.created.append(state_name)
        # The replay topic `run` reads beside the source (its default name, `{topic}.replay`).
        replay_name = f"{name}.replay" if replay else None
        if replay_name is not None:
            kafka_local.create_topics(self.bootstrap, {replay_name: partitions})
            self.created.append(replay_name)
        return Topics(name, dlq_name, partitions, state_name, replay_name)


def _two_free_ports() -> tuple[int, int]:
    broker_port = kafka_local.free_port()
    controller_port = kafka_local.free_port()
    while controller_port == broker_port:
        controller_port = kafka_local.free_port()
    return broker_port, controller_port


def start_session_broker(
    run_dir: Path,
    attempts: int = 3,
    *,
    secure: Callable[[], kafka_local.SecureListeners] | None = None,
    heap: str = "512m",
) -> kafka_local.Broker:
    """Start the session broker, turning every failure into one readable message.

    A port picked as free can be taken by a parallel test session before the broker binds it:
    that start is retried on new ports (`secure` picks its listeners' ports on each call).
    """
    try:
        kafka_local.check_tools(need_mvn=False)
        kafka_local.ensure_jars()
        for attempt in range(1, attempts + 1):
            broker_port, controller_port = _two_free_ports()
            try:
                return kafka_local.start_broker(
                    run_dir / f"attempt-{attempt}",
                    broker_port,
                    controller_port,
                    TEST_BROKER_OVERRIDES,
                    timeout=READY_TIMEOUT_S,
                    secure=secure() if secure is not None else None,
                    heap=heap,
                )
            except kafka_local.BrokerStartError as exc:
                if attempt == attempts or "Address already in use" not in str(exc):
                    raise
        raise AssertionError("unreachable")
    except kafka_local.DevenvError as exc:
        raise RuntimeError(f"could not start the test Kafka broker: {exc}") from exc


def session_broker(run_dir: Path) -> Iterator[kafka_local.Broker]:
    """Generator body of the session fixture; records its own overhead in the broker."""
    started = time.monotonic()
    broker = start_session_broker(run_dir)
    broker.started_in_s = time.monotonic() - started
    watch_file(f"Kafka broker log {broker.log_path}", broker.log_path)
    try:
        yield broker
    finally:
        # Clients that tests left in reference cycles are destroyed while the broker still
        # answers; after it stops, each would log a refused connection every 50 ms until the
        # interpreter exits, burying the test summary.
        gc.collect()
        # the data is thrown away: no controlled shutdown needed
        broker.stop(graceful=False)


@dataclass(frozen=True)
class SecureBroker:
    """The secure session broker and what a client needs to reach it.

    `broker.bootstrap` stays PLAINTEXT, for the tests' own set-up and accounting; the service
    under test goes through `sasl_ssl_bootstrap` or `mtls_bootstrap`.
    """

    broker: kafka_local.Broker
    ca: Path
    untrusted_ca: Path  # a CA that signed nothing the broker serves
    client: CertificateFiles  # signed by `ca`, for the mTLS listener
    username: str
    password: str = field(repr=False)

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    @property
    def sasl_ssl_bootstrap(self) -> str:
        return self.broker.sasl_ssl_bootstrap

    @property
    def mtls_bootstrap(self) -> str:
        return self.broker.mtls_bootstrap

    def sasl_config(self, *, password: str | None = None, ca: Path | None = None) -> dict[str, str]:
        """librdkafka properties for SCRAM-SHA-512 over TLS (the README's settings)."""
        return {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": kafka_local.SCRAM_MECHANISM,
            "sasl.username": self.username,
            "sasl.password": self.password if password is None else password,
            "ssl.ca.location": str(ca or self.ca),
        }

    def mtls_config(self) -> dict[str, str]:
        """librdkafka properties for TLS with a client certificate (the README's settings)."""
        return {
            "security.protocol": "SSL",
            "ssl.ca.location": str(self.ca),
            "ssl.certificate.location": str(self.client.cert),
            "ssl.key.location": str(self.client.key),
        }


def secure_session_broker(run_dir: Path) -> Iterator[SecureBroker]:
    """Generator body of the secure session fixture: CA, certificates, SCRAM user, broker."""
    started = time.monotonic()
    authority = Authority(run_dir / "tls")
    server = authority.issue("broker", hosts=["127.0.0.1", "localhost"])
    client = authority.issue("client", client=True)
    untrusted = Authority(run_dir / "tls-untrusted", "profile-sync untrusted CA")

    def listeners() -> kafka_local.SecureListeners:
        return kafka_local.SecureListeners(
            sasl_ssl_port=kafka_local.free_port(),
            keystore=server.keystore,
            ca=authority.cert_path,
            users={SCRAM_USER: SCRAM_PASSWORD},
            mtls_port=kafka_local.free_port(),
        )

    # a smaller heap: this broker carries a few small topics only
    broker = start_session_broker(run_dir, secure=listeners, heap="384m")
    broker.started_in_s = time.monotonic() - started
    watch_file(f"secure Kafka broker log {broker.log_path}", broker.log_path)
    try:
        yield SecureBroker(
            broker, authority.cert_path, untrusted.cert_path, client, SCRAM_USER, SCRAM_PASSWORD
        )
    finally:
        broker.stop(graceful=False)


def init_kafka_env(bootstrap: str, topics: Topics) -> dict[str, str]:
    """The Kafka settings of `profile-sync init` on a fresh source topic, with unique names for
    the topics init creates beside it (its dead-letter, state and replay topics)."""
    return {
        "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "PROFILE_SYNC_TOPIC": topics.name,
        "PROFILE_SYNC_DLQ_TOPIC": f"{topics.name}.dlq",
        "PROFILE_SYNC_GROUP_ID": topics.name,
    }
