"""`replay` and `dlq` refuse bad arguments and settings before they connect anything (exit 2),
and say so when the cluster cannot be reached (exit 1). The Kafka side is tested against the
real broker in tests/integration/test_replay_command.py and test_dlq_command.py."""

from __future__ import annotations

import pytest

from tests.support.cli import cli

NOWHERE = {"PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}


@pytest.mark.parametrize(
    "args",
    [
        ["replay", "--from", "1h"],
        ["dlq", "stats"],
        ["dlq", "list"],
        ["dlq", "show", "0:1"],
        ["dlq", "redrive"],
        ["dlq", "purge", "--before", "7d"],
    ],
)
def test_a_wrong_setting_exits_2_naming_it_before_connecting(args: list[str]) -> None:
    result = cli({**NOWHERE, "PROFILE_SYNC_KAFKA_CONFIG": "{not json"}, *args)
    assert result.exit_code == 2
    assert "PROFILE_SYNC_KAFKA_CONFIG" in result.stderr
    assert "{not json" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["replay"], "Missing option '--from'"),
        (["replay", "--from", "last week"], "neither an ISO-8601 time"),
        (["dlq", "list", "--limit", "0"], "--limit"),
        (["dlq", "stats", "--by", "colour"], "--by"),
        (["dlq", "purge", "--before", "1h", "--to-offset", "0:1"], "exactly one of"),
        (["dlq", "show"], "PARTITION:OFFSET"),
    ],
)
def test_usage_mistakes_exit_2(args: list[str], message: str) -> None:
    result = cli(NOWHERE, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_an_unreachable_cluster_is_an_error_with_exit_1() -> None:
    result = cli(NOWHERE, "dlq", "stats")
    assert result.exit_code == 1
    assert "cannot reach the Kafka cluster" in result.stderr
