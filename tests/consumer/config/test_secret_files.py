"""Secrets from mounted files (`..._FILE`), and secrets never shown by repr, errors or logs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from consumer.config.errors import describe
from consumer.config.loading import ConfigurationError, load_all
from consumer.config.settings import (
    AepAuthSettings,
    KafkaSettings,
    build,
    load_config_file,
)
from consumer.kafka.properties import consumer_config, dead_letter_producer_config, producer_config
from tests.support.leak_sweep import record_output, register_secret

CLIENT_SECRET = register_secret(
    "client-secret-9d2f71", "AEP client secret of the secret-file tests"
)
SASL_PASSWORD = register_secret("sasl-password-41c0aa", "SASL password of the secret-file tests")
KEY_PASSWORD = register_secret("key-password-7e11b3", "TLS key password of the secret-file tests")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PROFILE_SYNC_"):
            monkeypatch.delenv(name)
    load_config_file(None)


@pytest.fixture
def aep_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_SYNC_AEP_CLIENT_ID", "client")
    monkeypatch.setenv("PROFILE_SYNC_AEP_ORG_ID", "org@AdobeOrg")


def _secret_file(tmp_path: Path, text: str, name: str = "secret") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _errors(cls: type) -> list[str]:
    with pytest.raises(ValidationError) as info:
        build(cls)
    return describe(info.value)


@pytest.mark.usefixtures("aep_env")
@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_client_secret_from_a_file_loses_its_trailing_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    path = _secret_file(tmp_path, CLIENT_SECRET + ending)
    monkeypatch.setenv("PROFILE_SYNC_AEP_CLIENT_SECRET_FILE", str(path))
    auth = build(AepAuthSettings)
    assert isinstance(auth.aep_client_secret, SecretStr)
    assert auth.aep_client_secret.get_secret_value() == CLIENT_SECRET


@pytest.mark.usefixtures("aep_env")
def test_client_secret_file_from_the_config_file(tmp_path: Path) -> None:
    secret = _secret_file(tmp_path, CLIENT_SECRET + "\n")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"aep_client_secret_file": str(secret)}))
    load_config_file(config)
    assert build(AepAuthSettings).aep_client_secret.get_secret_value() == CLIENT_SECRET


@pytest.mark.usefixtures("aep_env")
def test_value_and_file_together_is_an_error_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROFILE_SYNC_AEP_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv(
        "PROFILE_SYNC_AEP_CLIENT_SECRET_FILE", str(_secret_file(tmp_path, CLIENT_SECRET))
    )
    (line,) = _errors(AepAuthSettings)
    assert "PROFILE_SYNC_AEP_CLIENT_SECRET and PROFILE_SYNC_AEP_CLIENT_SECRET_FILE" in line
    assert CLIENT_SECRET not in line


@pytest.mark.usefixtures("aep_env")
def test_a_missing_file_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_SYNC_AEP_CLIENT_SECRET_FILE", str(tmp_path / "absent"))
    (line,) = _errors(AepAuthSettings)
    assert line.startswith("PROFILE_SYNC_AEP_CLIENT_SECRET_FILE: cannot read")
    assert "No such file" in line


@pytest.mark.usefixtures("aep_env")
def test_an_unreadable_file_names_the_variable_never_the_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "a-directory"
    directory.mkdir()
    monkeypatch.setenv("PROFILE_SYNC_AEP_CLIENT_SECRET_FILE", str(directory))
    (line,) = _errors(AepAuthSettings)
    assert line.startswith("PROFILE_SYNC_AEP_CLIENT_SECRET_FILE: cannot read")
    binary = _secret_file(tmp_path, "", "binary")
    binary.write_bytes(b"\xff\xfe" + CLIENT_SECRET.encode())
    monkeypatch.setenv("PROFILE_SYNC_AEP_CLIENT_SECRET_FILE", str(binary))
    (line,) = _errors(AepAuthSettings)
    assert line == f"PROFILE_SYNC_AEP_CLIENT_SECRET_FILE: {binary} is not UTF-8 text"


@pytest.mark.usefixtures("aep_env")
def test_an_empty_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_SYNC_AEP_CLIENT_SECRET_FILE", str(_secret_file(tmp_path, "\n")))
    (line,) = _errors(AepAuthSettings)
    assert line.startswith("PROFILE_SYNC_AEP_CLIENT_SECRET_FILE:")
    assert line.endswith("is empty")


def test_neither_value_nor_file_says_the_secret_is_required(
    aep_env: None,
) -> None:
    assert _errors(AepAuthSettings) == ["PROFILE_SYNC_AEP_CLIENT_SECRET: is required and not set"]


def test_load_all_reports_a_secret_file_error_as_a_configuration_error(
    aep_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROFILE_SYNC_AEP_CLIENT_SECRET_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE", str(tmp_path / "absent-too"))
    with pytest.raises(ConfigurationError) as info:
        load_all(None, KafkaSettings, AepAuthSettings)
    assert [line.split(":")[0] for line in info.value.lines] == [
        "PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE",
        "PROFILE_SYNC_AEP_CLIENT_SECRET_FILE",
    ]


# ----------------------------------------------------------------------------------- Kafka


def test_sasl_password_file_goes_into_every_client_as_sasl_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE", str(_secret_file(tmp_path, SASL_PASSWORD + "\n"))
    )
    monkeypatch.setenv(
        "PROFILE_SYNC_KAFKA_CONFIG",
        json.dumps({"security.protocol": "SASL_SSL", "sasl.username": "svc"}),
    )
    kafka = build(KafkaSettings)
    for config in (
        consumer_config(kafka),
        dead_letter_producer_config(kafka),
        producer_config(kafka),
    ):
        assert config["sasl.password"] == SASL_PASSWORD
        assert config["sasl.username"] == "svc"
        assert config["security.protocol"] == "SASL_SSL"


def test_sasl_password_as_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_SYNC_KAFKA_SASL_PASSWORD", SASL_PASSWORD)
    assert consumer_config(build(KafkaSettings))["sasl.password"] == SASL_PASSWORD


def test_an_empty_sasl_password_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_SYNC_KAFKA_SASL_PASSWORD", "")
    assert _errors(KafkaSettings) == ["PROFILE_SYNC_KAFKA_SASL_PASSWORD: must not be empty"]


def test_sasl_password_twice_is_an_error_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE", str(_secret_file(tmp_path, SASL_PASSWORD))
    )
    monkeypatch.setenv("PROFILE_SYNC_KAFKA_CONFIG", json.dumps({"sasl.password": SASL_PASSWORD}))
    (line,) = _errors(KafkaSettings)
    assert "PROFILE_SYNC_KAFKA_SASL_PASSWORD" in line
    assert "sasl.password in PROFILE_SYNC_KAFKA_CONFIG" in line
    assert SASL_PASSWORD not in line


def test_sasl_password_value_and_file_is_an_error_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROFILE_SYNC_KAFKA_SASL_PASSWORD", SASL_PASSWORD)
    monkeypatch.setenv(
        "PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE", str(_secret_file(tmp_path, SASL_PASSWORD))
    )
    (line,) = _errors(KafkaSettings)
    assert "PROFILE_SYNC_KAFKA_SASL_PASSWORD and PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE" in line


def test_secret_librdkafka_properties_are_held_as_secretstr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "PROFILE_SYNC_KAFKA_CONFIG",
        json.dumps({"sasl.password": SASL_PASSWORD, "sasl.username": "svc"}),
    )
    monkeypatch.setenv(
        "PROFILE_SYNC_KAFKA_CONSUMER_CONFIG", json.dumps({"ssl.key.password": KEY_PASSWORD})
    )
    kafka = build(KafkaSettings)
    assert isinstance(kafka.kafka_config["sasl.password"], SecretStr)
    assert isinstance(kafka.kafka_consumer_config["ssl.key.password"], SecretStr)
    assert kafka.kafka_config["sasl.username"] == "svc"
    assert consumer_config(kafka)["ssl.key.password"] == KEY_PASSWORD
    assert sorted(kafka.secret_values()) == sorted([SASL_PASSWORD, KEY_PASSWORD])


# ------------------------------------------------------------------------ never shown


def test_repr_str_and_dumps_of_the_settings_never_show_a_secret(
    aep_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "PROFILE_SYNC_AEP_CLIENT_SECRET_FILE", str(_secret_file(tmp_path, CLIENT_SECRET))
    )
    monkeypatch.setenv("PROFILE_SYNC_KAFKA_SASL_PASSWORD", SASL_PASSWORD)
    monkeypatch.setenv("PROFILE_SYNC_KAFKA_CONFIG", json.dumps({"ssl.key.password": KEY_PASSWORD}))
    kafka, auth = build(KafkaSettings), build(AepAuthSettings)
    shown = " ".join(
        [
            repr(kafka),
            str(kafka),
            repr(auth),
            str(auth),
            kafka.model_dump_json(),
            auth.model_dump_json(),
            repr(kafka.common_properties()),
        ]
    )
    for secret in (CLIENT_SECRET, SASL_PASSWORD, KEY_PASSWORD):
        assert secret not in shown
    assert "**********" in shown


def test_logging_the_settings_never_shows_a_secret(tmp_path: Path) -> None:
    """The service's own log configuration, in a child process (it configures structlog for
    good): settings objects and secret-named keys logged as they are."""
    import subprocess
    import sys

    script = (
        "import structlog\n"
        "from consumer.config.settings import AepAuthSettings, KafkaSettings, TelemetrySettings\n"
        "from consumer.observability.logs import configure_logging\n"
        "configure_logging(TelemetrySettings())\n"
        "kafka, auth = KafkaSettings(), AepAuthSettings()\n"
        "structlog.get_logger('t').info('settings', kafka=kafka, auth=auth,\n"
        "    kafka_sasl_password=kafka.kafka_sasl_password.get_secret_value(),\n"
        "    client_secret=auth.aep_client_secret.get_secret_value(), **kafka.kafka_config)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROFILE_SYNC_")}
    env.update(
        {
            "PROFILE_SYNC_AEP_CLIENT_ID": "client",
            "PROFILE_SYNC_AEP_ORG_ID": "org@AdobeOrg",
            "PROFILE_SYNC_AEP_CLIENT_SECRET_FILE": str(_secret_file(tmp_path, CLIENT_SECRET)),
            "PROFILE_SYNC_KAFKA_SASL_PASSWORD": SASL_PASSWORD,
            "PROFILE_SYNC_KAFKA_CONFIG": json.dumps({"ssl.key.password": KEY_PASSWORD}),
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[3],
    )
    record_output("logging the settings (secret-file tests)", done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr
    logged = done.stdout + done.stderr
    assert '"event": "settings"' in logged
    for secret in (CLIENT_SECRET, SASL_PASSWORD, KEY_PASSWORD):
        assert secret not in logged
    assert "[redacted]" in logged


def test_run_with_value_and_file_exits_2_before_connecting(tmp_path: Path) -> None:
    import subprocess
    import sys

    secret = _secret_file(tmp_path, CLIENT_SECRET + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROFILE_SYNC_")}
    env.update(
        {
            "PROFILE_SYNC_AEP_CLIENT_ID": "client",
            "PROFILE_SYNC_AEP_ORG_ID": "org@AdobeOrg",
            "PROFILE_SYNC_AEP_CLIENT_SECRET": CLIENT_SECRET,
            "PROFILE_SYNC_AEP_CLIENT_SECRET_FILE": str(secret),
            # nothing listens here: the run must stop before it tries
            "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "PROFILE_SYNC_AEP_IMS_URL": "http://127.0.0.1:1",
        }
    )
    done = subprocess.run(
        [str(Path(sys.executable).with_name("profile-sync")), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    record_output("profile-sync run (secret-file tests)", done.stdout, done.stderr)
    assert done.returncode == 2, done.stderr
    assert "PROFILE_SYNC_AEP_CLIENT_SECRET and PROFILE_SYNC_AEP_CLIENT_SECRET_FILE" in done.stderr
    assert CLIENT_SECRET not in done.stdout + done.stderr
