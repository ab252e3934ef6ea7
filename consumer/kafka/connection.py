"""Why a Kafka client cannot connect, in words that name the setting to fix.

librdkafka reports a refused SASL login or an unverifiable broker certificate only to the
client's error callback; `list_topics` itself just times out with `_TRANSPORT`. `ConnectionProblems`
is that callback, and `ExplainingMetadata` a `list_topics` that serves it between short attempts,
so that start-up fails within about a second with exit 2 and a message naming
PROFILE_SYNC_KAFKA_CONFIG instead of "cannot reach Kafka" after the whole timeout. Messages pass
through `scrub`: librdkafka never echoes a password, but a scrubbed copy costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, Final, Protocol

from confluent_kafka import KafkaError, KafkaException

from consumer.config import exit_codes
from consumer.config.settings import variable

ATTEMPT_S: Final = 1.0
_SASL_SETTINGS: Final = (
    f"sasl.mechanism, sasl.username and sasl.password in {variable('kafka_config')} "
    f"(or {variable('kafka_sasl_password')} / {variable('kafka_sasl_password_file')})"
)


class KafkaConnectError(Exception):
    """The cluster refused the client's credentials or certificate; `exit_code` is 2."""

    def __init__(self, message: str, exit_code: int = exit_codes.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class ConnectionProblems:
    """librdkafka's `error_cb`: remembers the first authentication and TLS failure."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = [s for s in secrets if s]
        self.authentication: str | None = None
        self.tls: str | None = None

    def __call__(self, error: KafkaError) -> None:
        code = error.code()
        if code == KafkaError._AUTHENTICATION and self.authentication is None:
            self.authentication = scrub(error.str(), self._secrets)
        elif code == KafkaError._SSL and self.tls is None:
            self.tls = scrub(error.str(), self._secrets)

    def explain(self) -> KafkaConnectError | None:
        if self.authentication is not None:
            return KafkaConnectError(
                f"{variable('kafka_config')}: the Kafka cluster refused the SASL login; check "
                f"{_SASL_SETTINGS} (librdkafka: {self.authentication})"
            )
        if self.tls is not None:
            reason = self.tls
            about = (
                "the broker's TLS certificate could not be verified; check ssl.ca.location"
                if "certificate verify failed" in reason or "certificate" in reason.lower()
                else "the TLS handshake with the broker failed; check the ssl.* properties"
            )
            return KafkaConnectError(f"{variable('kafka_config')}: {about} (librdkafka: {reason})")
        return None


class _Client(Protocol):
    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any: ...

    def poll(self, timeout: float = -1) -> Any: ...


class ExplainingMetadata:
    """`list_topics` in short attempts, serving the error callback in between: raises
    KafkaConnectError as soon as the callback saw a refused login or certificate, else what
    `list_topics` raised once the timeout is spent."""

    def __init__(self, client: _Client, problems: ConnectionProblems) -> None:
        self._client = client
        self._problems = problems

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any:
        deadline = time.monotonic() + (timeout if timeout > 0 else 60.0)
        while True:
            remaining = deadline - time.monotonic()
            try:
                return self._client.list_topics(topic, timeout=max(0.1, min(ATTEMPT_S, remaining)))
            except KafkaException:
                self._client.poll(0)  # runs the error callback
                explained = self._problems.explain()
                if explained is not None:
                    raise explained from None
                if time.monotonic() >= deadline:
                    raise


def refused_configuration(exc: KafkaException, secrets: Iterable[str]) -> str:
    """The message for a client librdkafka would not even create (a bad property or file)."""
    error = exc.args[0] if exc.args else exc
    reason = error.str() if isinstance(error, KafkaError) else str(error)
    return (
        f"{variable('kafka_config')} (or {variable('kafka_consumer_config')} / "
        f"{variable('kafka_producer_config')}): librdkafka refused the configuration "
        f"({scrub(reason, secrets)})"
    )
