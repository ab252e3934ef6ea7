"""Start-up explains a refused SASL login or certificate (exit 2, naming the setting) quickly."""

from __future__ import annotations

import time
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from consumer.kafka.connection import (
    ConnectionProblems,
    ExplainingMetadata,
    KafkaConnectError,
    refused_configuration,
)
from tests.support.leak_sweep import register_secret

SECRET = register_secret("hunter2-secret", "Kafka password of the connection tests")


class FakeClient:
    """list_topics always times out; poll() delivers `errors` to the error callback."""

    def __init__(self, problems: ConnectionProblems, errors: list[KafkaError]) -> None:
        self.problems = problems
        self.errors = errors
        self.calls = 0

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any:
        self.calls += 1
        time.sleep(min(timeout, 0.01))
        raise KafkaException(KafkaError(KafkaError._TRANSPORT, "Failed to get metadata"))

    def poll(self, timeout: float = -1) -> None:
        for error in self.errors:
            self.problems(error)


def test_a_refused_login_is_explained_at_once_without_the_password() -> None:
    problems = ConnectionProblems([SECRET])
    error = KafkaError(KafkaError._AUTHENTICATION, f"SASL authentication error ({SECRET})")
    client = FakeClient(problems, [error])
    with pytest.raises(KafkaConnectError) as info:
        ExplainingMetadata(client, problems).list_topics(timeout=30)
    assert client.calls == 1
    assert info.value.exit_code == 2
    assert info.value.message.startswith("PROFILE_SYNC_KAFKA_CONFIG: ")
    assert "sasl.username and sasl.password" in info.value.message
    assert "PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE" in info.value.message
    assert SECRET not in info.value.message


def test_an_unverified_certificate_names_ssl_ca_location() -> None:
    problems = ConnectionProblems()
    error = KafkaError(KafkaError._SSL, "SSL handshake failed: certificate verify failed")
    with pytest.raises(KafkaConnectError) as info:
        ExplainingMetadata(FakeClient(problems, [error]), problems).list_topics(timeout=30)
    assert "certificate could not be verified; check ssl.ca.location" in info.value.message


def test_an_unreachable_cluster_still_raises_after_the_timeout() -> None:
    problems = ConnectionProblems()
    client = FakeClient(problems, [KafkaError(KafkaError._TRANSPORT, "Connection refused")])
    started = time.monotonic()
    with pytest.raises(KafkaException):
        ExplainingMetadata(client, problems).list_topics(timeout=0.3)
    assert client.calls >= 2
    assert time.monotonic() - started < 5


def test_a_refused_configuration_names_the_settings_and_scrubs_secrets() -> None:
    exc = KafkaException(KafkaError(KafkaError._INVALID_ARG, f"bad value {SECRET}"))
    message = refused_configuration(exc, [SECRET])
    assert message.startswith("PROFILE_SYNC_KAFKA_CONFIG (or PROFILE_SYNC_KAFKA_CONSUMER_CONFIG")
    assert SECRET not in message
