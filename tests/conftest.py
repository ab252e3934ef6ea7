"""Session-wide fixtures: the real Kafka broker, fresh topics, the Schema Registry and Jaeger.

Each is started lazily, by the first test that uses it, and stopped at the end of the session.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from devenv.jaeger_tool import Jaeger, start_jaeger
from devenv.kafka_local import Broker
from devenv.schema_registry import Registry
from tests.support.kafka import SecureBroker, TopicFactory, secure_session_broker, session_broker
from tests.support.registry import session_registry

# The leak sweep: test secrets must appear nowhere in the suite's output and logs.
pytest_plugins = ["tests.support.leak_sweep"]

# `make fuzz` (--hypothesis-profile=fuzz): the fuzz tests, which set no example count of their
# own, run this many examples instead of Hypothesis' default 100.
settings.register_profile("fuzz", max_examples=5000)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One real broker per test session (auto.create.topics.enable=false)."""
    yield from session_broker(tmp_path_factory.mktemp("kafka"))


@pytest.fixture(scope="session")
def secure_kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    """A second broker with SASL_SSL (SCRAM-SHA-512) and mTLS listeners, for the few tests of
    secure connections; started only when one of them runs."""
    yield from secure_session_broker(tmp_path_factory.mktemp("kafka-secure"))


@pytest.fixture
def make_topics(kafka_broker: Broker) -> TopicFactory:
    """`make_topics(partitions=3, dlq=True) -> Topics(name, dlq, partitions, state)`, unique per
    call; `state` is the compacted state topic (`state=False`: not created)."""
    return TopicFactory(kafka_broker.bootstrap)


@pytest.fixture(scope="session")
def schema_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A real Schema Registry for the session; `.url` is its Confluent-compatible base URL."""
    yield from session_registry(tmp_path_factory.mktemp("schema-registry"))


@pytest.fixture(scope="session")
def jaeger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jaeger]:
    """A real Jaeger (devenv/jaeger_tool.py) on free ports: OTLP gRPC and HTTP in, query API out."""
    server = start_jaeger(tmp_path_factory.mktemp("jaeger"))
    try:
        yield server
    finally:
        server.stop()
