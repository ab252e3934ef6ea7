"""`profile-sync init` end to end through the CLI: output contract and exit codes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
from click.testing import CliRunner

from consumer.cli import main
from consumer.config.settings import AepResourceSettings, build, load_config_file
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

    code, out, err = invoke(aep, "--json", PROFILE_SYNC_AEP_DATAFLOW_WARMUP_S="300")
    assert code == 0
    assert out.count("\n") == 1
    line = orjson.loads(out)
    assert list(line) == KEYS
    assert len(line["changes"]) == 7
    assert "7 change(s) made" in err
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
