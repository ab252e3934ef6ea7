"""Settings: each command validates what it uses, mistakes name the variable, never the value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from consumer.config.errors import describe
from consumer.config.settings import (
    AepAuthSettings,
    AepResourceSettings,
    ConfigFileError,
    DeliverySettings,
    KafkaSettings,
    XdmSettings,
    build,
    known_keys,
    load_config_file,
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("PROFILE_SYNC_"):
            monkeypatch.delenv(name)
    load_config_file(None)


def errors_of(cls: type) -> list[str]:
    with pytest.raises(ValidationError) as info:
        build(cls)
    return describe(info.value)


def test_defaults_match_the_design() -> None:
    kafka = build(KafkaSettings)
    assert kafka.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert kafka.topic == "commerce.customer.v1"
    assert kafka.dlq_topic == "commerce.customer.v1.dlq"
    assert kafka.group_id == "commerce-profile-sync"
    assert kafka.replay_topic == "commerce.customer.v1.replay"
    xdm = build(XdmSettings)
    assert xdm.xdm_audit_field_group is True
    assert xdm.xdm_tenant_fields is False
    assert xdm.gender_map == {1: "male", 2: "female", 3: "not_specified"}
    delivery = build(DeliverySettings)
    assert (delivery.aep_request_timeout_s, delivery.revoke_timeout_s) == (30, 45)
    resources = build(AepResourceSettings)
    assert resources.aep_schema_title == "Commerce Customer Profile"
    assert resources.aep_dataset_name == "Commerce Customer Profiles"


def test_missing_credentials_name_every_variable() -> None:
    lines = errors_of(AepAuthSettings)
    assert lines == [
        "PROFILE_SYNC_AEP_CLIENT_ID: is required and not set",
        "PROFILE_SYNC_AEP_CLIENT_SECRET: is required and not set",
        "PROFILE_SYNC_AEP_ORG_ID: is required and not set",
    ]


def test_wrong_value_names_the_variable_but_not_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_SYNC_EXPECTED_REPLICAS", "minus-seven-secret")
    lines = errors_of(DeliverySettings)
    assert len(lines) == 1
    assert lines[0].startswith("PROFILE_SYNC_EXPECTED_REPLICAS: ")
    assert "minus-seven-secret" not in lines[0]


def test_secret_is_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_SYNC_AEP_CLIENT_ID", "client")
    monkeypatch.setenv("PROFILE_SYNC_AEP_CLIENT_SECRET", "p4ssw0rd-value")
    monkeypatch.setenv("PROFILE_SYNC_AEP_ORG_ID", "ORG@AdobeOrg")
    settings = build(AepAuthSettings)
    assert settings.aep_client_secret.get_secret_value() == "p4ssw0rd-value"
    assert "p4ssw0rd-value" not in repr(settings)
    assert "p4ssw0rd-value" not in str(settings)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PROFILE_SYNC_KAFKA_CONFIG", "not json", "not a JSON object"),
        ("PROFILE_SYNC_KAFKA_CONFIG", "[1]", "must be a JSON object"),
        (
            "PROFILE_SYNC_KAFKA_CONSUMER_CONFIG",
            '{"auto.offset.reset": "latest"}',
            "auto.offset.reset",
        ),
        ("PROFILE_SYNC_KAFKA_CONSUMER_CONFIG", '{"enable.auto.offset.store": true}', "owns"),
        (
            "PROFILE_SYNC_KAFKA_CONSUMER_CONFIG",
            '{"partition.assignment.strategy": "range"}',
            "partition.assignment.strategy",
        ),
        ("PROFILE_SYNC_KAFKA_PRODUCER_CONFIG", '{"acks": "1"}', "acks"),
        ("PROFILE_SYNC_KAFKA_PRODUCER_CONFIG", '{"enable.idempotence": false}', "owns"),
        ("PROFILE_SYNC_KAFKA_CONFIG", '{"acks": "0"}', "acks"),
    ],
)
def test_service_owned_kafka_properties_cannot_be_overridden(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    lines = errors_of(KafkaSettings)
    assert len(lines) == 1
    assert lines[0].startswith(f"{variable}: ")
    assert expected in lines[0]


def test_user_kafka_properties_are_kept_as_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_SYNC_KAFKA_PRODUCER_CONFIG", '{"linger.ms": 5, "x.flag": true}')
    assert build(KafkaSettings).kafka_producer_config == {"linger.ms": "5", "x.flag": "true"}


@pytest.mark.parametrize(
    "value", ['{"1": "man"}', '{"one": "male"}', "male"], ids=["gender", "key", "json"]
)
def test_gender_map_is_checked(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PROFILE_SYNC_GENDER_MAP", value)
    [line] = errors_of(XdmSettings)
    assert line.startswith("PROFILE_SYNC_GENDER_MAP: ")


def test_ready_at_needs_an_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILE_SYNC_AEP_READY_AT", "2026-11-28T10:15:00")
    [line] = errors_of(AepResourceSettings)
    assert line.startswith("PROFILE_SYNC_AEP_READY_AT: ")


def test_config_file_yaml_below_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "sync.yaml"
    config.write_text("topic: from-file\ngroup_id: file-group\nPROFILE_SYNC_DLQ_TOPIC: dlq-file\n")
    monkeypatch.setenv("PROFILE_SYNC_GROUP_ID", "env-group")
    load_config_file(config)
    kafka = build(KafkaSettings)
    assert (kafka.topic, kafka.group_id, kafka.dlq_topic) == ("from-file", "env-group", "dlq-file")


def test_init_json_output_is_a_valid_config_file(tmp_path: Path) -> None:
    config = tmp_path / "aep.json"
    output = {
        "tenant_id": "acme",
        "schema_id": "https://ns.adobe.com/acme/schemas/abc",
        "dataset_id": "5f0000000000000000000001",
        "connection_id": "c-1",
        "inlet_url": "http://127.0.0.1:8765/collection/" + "a" * 64,
        "flow_id": "f-1",
        "ready_at": "2026-11-28T10:20:00Z",
        "changes": [{"action": "create", "kind": "schema", "key": "Commerce Customer Profile"}],
    }
    config.write_text(json.dumps(output))
    load_config_file(config)
    resources = build(AepResourceSettings)
    assert resources.aep_tenant_id == "acme"
    assert resources.aep_flow_id == "f-1"
    assert resources.aep_ready_at is not None
    assert resources.aep_ready_at.tzinfo is not None
    assert str(resources.aep_inlet_url).endswith("a" * 64)


def test_unknown_key_in_config_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "sync.json"
    config.write_text('{"topik": "x"}')
    with pytest.raises(ConfigFileError) as info:
        load_config_file(config)
    assert describe(info.value) == ["PROFILE_SYNC_TOPIK: unknown setting in the config file"]


def test_unreadable_config_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError) as info:
        load_config_file(tmp_path / "missing.yaml")
    assert info.value.setting == "PROFILE_SYNC_CONFIG_FILE"
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ConfigFileError):
        load_config_file(bad)


def test_every_design_variable_is_a_setting() -> None:
    design_variables = {
        "kafka_bootstrap_servers", "topic", "dlq_topic", "group_id", "kafka_config",
        "kafka_consumer_config", "kafka_producer_config", "schema_registry_url",
        "avro_schema_dir", "aep_ims_url", "aep_platform_url", "aep_client_id",
        "aep_client_secret", "aep_org_id", "aep_sandbox", "aep_scopes", "aep_schema_title",
        "aep_dataset_name", "aep_connection_name", "aep_flow_name", "aep_tenant_id",
        "aep_schema_id", "aep_dataset_id", "aep_connection_id", "aep_flow_id", "aep_inlet_url",
        "aep_ready_at", "xdm_audit_field_group", "xdm_tenant_fields", "xdm_email_identity",
        "gender_map", "aep_max_requests_per_s", "aep_max_records_per_s", "expected_replicas",
        "aep_request_timeout_s", "revoke_timeout_s", "dlq_guard_window_s",
        "dlq_guard_min_records", "dlq_guard_max_share", "replay_topic", "health_port",
    }  # fmt: skip
    assert design_variables <= known_keys()


def test_replay_topic_follows_the_source_topic_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROFILE_SYNC_TOPIC", "shop.customers")
    assert build(KafkaSettings).replay_topic == "shop.customers.replay"
    monkeypatch.setenv("PROFILE_SYNC_REPLAY_TOPIC", "sandbox-b.replay")
    assert build(KafkaSettings).replay_topic == "sandbox-b.replay"
    monkeypatch.setenv("PROFILE_SYNC_REPLAY_TOPIC", "")
    assert any("PROFILE_SYNC_REPLAY_TOPIC" in line for line in errors_of(KafkaSettings))
