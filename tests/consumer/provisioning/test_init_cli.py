"""`profile-sync init` end to end through the CLI: output contract and exit codes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import orjson
from click.testing import CliRunner
from confluent_kafka.admin import AdminClient

from consumer.cli import main
from consumer.config.settings import AepResourceSettings, build, load_config_file
from consumer.provisioning.topics import TopicInfo, describe
from devenv.kafka_local import create_topics
from tests.consumer.provisioning.init_helpers import SECRET, Aep

KEYS = [
    "tenant_id",
    "schema_id",
    "dataset_id",
    "connection_id",
    "inlet_url",
    "flow_id",
    "ready_at",
    "changes",
]


def _topics(
    aep: Aep, names: list[str], policies: Sequence[str] = ()
) -> dict[str, TopicInfo | None]:
    admin = AdminClient({"bootstrap.servers": aep.kafka["PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS"]})
    return describe(admin, names, 10, policies=policies)


def invoke(aep: Aep, *args: str, **env: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["init", *args], env=aep.env(**env))
    return result.exit_code, result.stdout, result.stderr


def test_json_plan_then_apply_then_nothing(aep: Aep, tmp_path: Path) -> None:
    code, out, err = invoke(aep, "--plan", "--json")
    assert code == 2
    plan = orjson.loads(out)
    assert out.count("\n") == 1
    assert {"action": "create", "kind": "schema", "key": "Commerce Customer Profile"} in plan[
        "changes"
    ]
    assert plan["schema_id"] is None
    assert "nothing was written" in err
    assert aep.writes() == 0
    source = aep.kafka["PROFILE_SYNC_TOPIC"]
    own = [f"{source}.dlq", f"{source}.state", f"{source}.replay"]
    assert plan["changes"][:3] == [{"action": "create", "kind": "topic", "key": t} for t in own]
    assert f"would create topic '{source}.state'" in err
    assert all(info is None for info in _topics(aep, own).values())

    code, out, err = invoke(aep, "--json", PROFILE_SYNC_AEP_DATAFLOW_WARMUP_S="300")
    assert code == 0
    assert out.count("\n") == 1
    line = orjson.loads(out)
    assert list(line) == KEYS
    assert len(line["changes"]) == 10  # 3 topics, 7 AEP resources
    assert "10 change(s) made" in err
    found = _topics(aep, [source, *own], policies=own)
    assert {name: info.partitions for name, info in found.items() if info} == {
        name: 3 for name in [source, *own]
    }
    assert [name for name, info in found.items() if info and info.compacted] == [f"{source}.state"]
    ready = datetime.strptime(line["ready_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert 290 < (ready - datetime.now(UTC)).total_seconds() <= 301
    assert SECRET not in out + err

    # The line is a config file for `run`.
    config = tmp_path / "aep.json"
    config.write_text(out)
    load_config_file(config)
    resources = build(AepResourceSettings)
    load_config_file(None)
    assert resources.aep_schema_id == line["schema_id"]
    assert resources.aep_flow_id == line["flow_id"]
    assert str(resources.aep_inlet_url) == line["inlet_url"]
    assert resources.aep_ready_at == ready

    writes = aep.writes()
    code, out, err = invoke(aep, "--json", PROFILE_SYNC_AEP_DATAFLOW_WARMUP_S="300")
    assert code == 0
    again = orjson.loads(out)
    assert again["changes"] == []
    assert again["ready_at"] == line["ready_at"]  # the flow's creation + warm-up, not now
    assert aep.writes() == writes

    code, out, err = invoke(aep, "--plan")
    assert code == 0
    assert "nothing to do" in out


def test_human_output_goes_to_stdout_without_json(aep: Aep) -> None:
    code, out, _err = invoke(aep)
    assert code == 0
    assert "did create dataflow 'commerce-profile-sync'" in out
    assert "{" not in out


def test_refused_drift_exits_1_with_nothing_on_stdout(aep: Aep) -> None:
    with aep.client() as client:
        other = client.create_schema(
            "Other",
            "",
            [
                "https://ns.adobe.com/xdm/context/profile",
                "https://ns.adobe.com/xdm/context/identitymap",
            ],
            union=True,
        )
        client.create_dataset("Commerce Customer Profiles", "", other.id, {})
    writes = aep.writes()
    code, out, err = invoke(aep, "--json")
    assert code == 1
    assert out == ""
    assert "refused" in err
    assert aep.writes() == writes


def test_wrong_setting_is_exit_2_naming_the_variable(aep: Aep) -> None:
    code, _out, err = invoke(aep, "--json", PROFILE_SYNC_AEP_DATAFLOW_WARMUP_S="-1")
    assert code == 2
    assert "PROFILE_SYNC_AEP_DATAFLOW_WARMUP_S" in err


def test_unknown_sandbox_names_the_setting(aep: Aep) -> None:
    code, out, err = invoke(aep, "--json", PROFILE_SYNC_AEP_SANDBOX="nosuch")
    assert code == 1
    assert out == ""
    assert "PROFILE_SYNC_AEP_SANDBOX" in err


def test_a_missing_source_topic_is_refused_and_nothing_written(aep: Aep) -> None:
    code, out, err = invoke(aep, "--json", PROFILE_SYNC_TOPIC="no.such.topic")
    assert code == 1
    assert out == ""
    assert "PROFILE_SYNC_TOPIC" in err
    assert "never creates it" in err
    assert aep.writes() == 0
    assert _topics(aep, ["no.such.topic", "no.such.topic.replay"]) == {
        "no.such.topic": None,
        "no.such.topic.replay": None,
    }


def test_an_existing_state_topic_that_cannot_serve_is_refused(aep: Aep) -> None:
    source = aep.kafka["PROFILE_SYNC_TOPIC"]
    bootstrap = aep.kafka["PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS"]
    create_topics(bootstrap, {f"{source}.state": 3})  # cleanup.policy=delete
    code, _out, err = invoke(aep, "--json")
    assert code == 1
    assert "PROFILE_SYNC_STATE_TOPIC" in err
    assert "not compacted" in err
    assert aep.writes() == 0
    assert _topics(aep, [f"{source}.dlq"]) == {f"{source}.dlq": None}
