"""`produce` and `run` through the secure broker's SASL_SSL (SCRAM-SHA-512) and mTLS listeners,
configured only through `PROFILE_SYNC_KAFKA_CONFIG`.

The topics are set up and read back over the broker's PLAINTEXT listener (the test's own view);
the service under test only ever sees the secure listener.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.run_support import (
    aep_target,
    check_final_state,
    consumer_env,
    produce_sample,
    read_topic,
)
from tests.support.kafka import SecureBroker, TopicFactory, Topics
from tests.support.leak_sweep import record_output, register_secret

PROFILE_SYNC = str(Path(sys.executable).with_name("profile-sync"))
WRONG_PASSWORD = register_secret("wrong-scram-password-7f3a", "wrong SCRAM password")
TIMEOUT_S = 180


def _env(bootstrap: str, kafka_config: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROFILE_SYNC_")},
        "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "PROFILE_SYNC_KAFKA_CONFIG": json.dumps(kafka_config),
        **extra,
    }


def _profile_sync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [PROFILE_SYNC, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    record_output(f"profile-sync {args[0]} (secure Kafka tests)", done.stdout, done.stderr)
    return done


def _output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


@pytest.fixture
def secure_topics(secure_kafka_broker: SecureBroker) -> TopicFactory:
    return TopicFactory(secure_kafka_broker.bootstrap, prefix="secure")


def _produce(secure: SecureBroker, topic: Topics, config: dict[str, str], bootstrap: str) -> str:
    done = _profile_sync(
        _env(bootstrap, config, PROFILE_SYNC_TOPIC=topic.name),
        "produce",
        "--count",
        "200",
        "--seed",
        "3",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["produced"] == 200
    messages = read_topic(secure.bootstrap, topic.name)
    assert len(messages) == 200
    return _output(done)


def test_produce_through_sasl_ssl_with_scram(
    secure_kafka_broker: SecureBroker, secure_topics: TopicFactory
) -> None:
    secure = secure_kafka_broker
    output = _produce(
        secure, secure_topics(dlq=False), secure.sasl_config(), secure.sasl_ssl_bootstrap
    )
    assert secure.password not in output


def test_produce_with_the_sasl_password_from_a_file(
    secure_kafka_broker: SecureBroker, secure_topics: TopicFactory, tmp_path: Path
) -> None:
    """PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE (a mounted secret, with echo's newline) is merged
    into the librdkafka configuration as sasl.password."""
    secure = secure_kafka_broker
    password_file = tmp_path / "sasl-password"
    password_file.write_text(secure.password + "\n")
    config = {k: v for k, v in secure.sasl_config().items() if k != "sasl.password"}
    topic = secure_topics(dlq=False)
    done = _profile_sync(
        _env(
            secure.sasl_ssl_bootstrap,
            config,
            PROFILE_SYNC_TOPIC=topic.name,
            PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE=str(password_file),
        ),
        "produce",
        "--count",
        "20",
    )
    assert done.returncode == 0, done.stderr
    assert len(read_topic(secure.bootstrap, topic.name)) == 20
    assert secure.password not in _output(done)


def test_a_ca_location_that_is_no_certificate_exits_2_naming_the_setting(
    secure_kafka_broker: SecureBroker, secure_topics: TopicFactory, tmp_path: Path
) -> None:
    secure = secure_kafka_broker
    not_a_certificate = tmp_path / "ca.pem"
    not_a_certificate.write_text("this is no PEM file\n")
    topic = secure_topics(dlq=False)
    done = _profile_sync(
        _env(
            secure.sasl_ssl_bootstrap,
            secure.sasl_config(ca=not_a_certificate),
            PROFILE_SYNC_TOPIC=topic.name,
        ),
        "produce",
        "--count",
        "5",
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "PROFILE_SYNC_KAFKA_CONFIG" in done.stderr
    assert "ssl.ca.location" in done.stderr
    assert secure.password not in _output(done)


def test_produce_through_mtls(
    secure_kafka_broker: SecureBroker, secure_topics: TopicFactory
) -> None:
    secure = secure_kafka_broker
    _produce(secure, secure_topics(dlq=False), secure.mtls_config(), secure.mtls_bootstrap)


def test_mtls_listener_refuses_a_client_without_certificate(
    secure_kafka_broker: SecureBroker, secure_topics: TopicFactory
) -> None:
    """The mTLS listener really checks: the same settings less the client certificate fail."""
    secure = secure_kafka_broker
    topic = secure_topics(dlq=False)
    config = {k: v for k, v in secure.mtls_config().items() if not k.startswith("ssl.c")}
    config["ssl.ca.location"] = str(secure.ca)
    done = _profile_sync(
        _env(secure.mtls_bootstrap, config, PROFILE_SYNC_TOPIC=topic.name),
        "produce",
        "--count",
        "5",
    )
    assert done.returncode != 0
    assert read_topic(secure.bootstrap, topic.name) == []


@pytest.mark.slow
def test_run_delivers_through_sasl_ssl_with_scram(
    secure_kafka_broker: SecureBroker, secure_topics: TopicFactory, tmp_path: Path
) -> None:
    """Sample events with poison: delivered, dead-lettered (the dead-letter producer goes
    through SASL_SSL too) and committed; the demo's accounting finds nothing lost."""
    secure = secure_kafka_broker
    topics = secure_topics(partitions=2)
    produced = produce_sample(secure.bootstrap, topics.name, 400, seed=21, poison_share=0.03)
    assert produced.poison
    # the AEP client secret too comes from a mounted file only
    secret_file = tmp_path / "client-secret"
    with aep_target() as target:
        env = consumer_env(secure.sasl_ssl_bootstrap, topics, target)
        secret_file.write_text(env.pop("PROFILE_SYNC_AEP_CLIENT_SECRET") + "\n")
        env["PROFILE_SYNC_AEP_CLIENT_SECRET_FILE"] = str(secret_file)
        env["PROFILE_SYNC_KAFKA_CONFIG"] = json.dumps(secure.sasl_config())
        done = _profile_sync(
            {**{k: v for k, v in os.environ.items() if not k.startswith("PROFILE_SYNC_")}, **env},
            "run",
            "--exit-when-idle",
            "1",
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert secure.password not in _output(done)
        check_final_state(secure.bootstrap, topics, env["PROFILE_SYNC_GROUP_ID"], target, produced)


def _wrong(secure: SecureBroker, **overrides: str) -> dict[str, str]:
    config = secure.sasl_config()
    config.update(overrides)
    return config


def test_produce_with_a_wrong_password_exits_2_naming_the_setting(
    secure_kafka_broker: SecureBroker, secure_topics: TopicFactory
) -> None:
    secure = secure_kafka_broker
    topic = secure_topics(dlq=False)
    done = _profile_sync(
        _env(
            secure.sasl_ssl_bootstrap,
            _wrong(secure, **{"sasl.password": WRONG_PASSWORD}),
            PROFILE_SYNC_TOPIC=topic.name,
        ),
        "produce",
        "--count",
        "5",
    )
    output = _output(done)
    assert WRONG_PASSWORD not in output
    assert secure.password not in output
    assert done.returncode == 2, output[-2000:]
    assert "PROFILE_SYNC_KAFKA_CONFIG" in done.stderr
    assert "sasl" in done.stderr.lower()
    assert read_topic(secure.bootstrap, topic.name) == []


def test_run_with_a_wrong_password_exits_2_naming_the_setting(
    secure_kafka_broker: SecureBroker, secure_topics: TopicFactory
) -> None:
    secure = secure_kafka_broker
    topics = secure_topics()
    with aep_target() as target:
        env = consumer_env(secure.sasl_ssl_bootstrap, topics, target)
        env["PROFILE_SYNC_KAFKA_CONFIG"] = json.dumps(
            _wrong(secure, **{"sasl.password": WRONG_PASSWORD})
        )
        done = _profile_sync(
            {**{k: v for k, v in os.environ.items() if not k.startswith("PROFILE_SYNC_")}, **env},
            "run",
            "--exit-when-idle",
            "1",
        )
    output = _output(done)
    assert WRONG_PASSWORD not in output
    assert secure.password not in output
    assert done.returncode in (2, 3), output[-2000:]
    assert "PROFILE_SYNC_KAFKA_CONFIG" in done.stderr
    assert "sasl" in done.stderr.lower()


@pytest.mark.parametrize("command", ["produce", "run"])
def test_an_untrusted_broker_certificate_fails_with_a_message_about_it(
    secure_kafka_broker: SecureBroker, secure_topics: TopicFactory, command: str
) -> None:
    secure = secure_kafka_broker
    topics = secure_topics()
    config = secure.sasl_config(ca=secure.untrusted_ca)
    with aep_target() as target:
        env = consumer_env(secure.sasl_ssl_bootstrap, topics, target)
        env["PROFILE_SYNC_KAFKA_CONFIG"] = json.dumps(config)
        args = ["run", "--exit-when-idle", "1"] if command == "run" else ["produce", "--count", "5"]
        done = _profile_sync(
            {**{k: v for k, v in os.environ.items() if not k.startswith("PROFILE_SYNC_")}, **env},
            *args,
        )
    output = _output(done)
    assert secure.password not in output
    assert done.returncode == 2, output[-2000:]
    assert "certificate" in done.stderr.lower()
    assert "ssl.ca.location" in done.stderr
