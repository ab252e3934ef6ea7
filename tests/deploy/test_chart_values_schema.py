"""values.schema.json: wrong types and more consumers than partitions are refused before any
template runs, with the path of the value in the message."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from devenv import chart_schema
from tests.deploy.chart import RenderError, render_text


def _refusal(helm_binary: Path, *sets: str) -> str:
    args = [arg for item in sets for arg in ("--set-json", item)]
    with pytest.raises(RenderError) as refused:
        render_text(helm_binary, ["-f", str(chart_schema.CHART / "ci" / "base-values.yaml"), *args])
    return str(refused.value)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ('replicaCount="two"', "/replicaCount"),
        ('kafka={"partitions": "six"}', "/kafka/partitions"),
        ('health={"port": 0}', "/health/port"),
        ('aep={"clientSecretFrom": "vault"}', "/aep/clientSecretFrom"),
        ('revokeTimeoutS="45s"', "/revokeTimeoutS"),
        ("replicaTypo=3", "replicaTypo"),
    ],
)
def test_wrong_types_are_refused_by_the_schema(helm_binary: Path, value: str, path: str) -> None:
    message = _refusal(helm_binary, value)
    assert "values don't meet the specifications of the schema" in message
    assert path in message


@pytest.mark.parametrize(
    ("sets", "path"),
    [
        (("replicaCount=7",), "/replicaCount"),
        (('kafka={"partitions": 3}', "replicaCount=4"), "/replicaCount"),
        (('keda={"enabled": true, "maxReplicaCount": 7}',), "/keda/maxReplicaCount"),
        (('autoscaling={"enabled": true, "maxReplicas": 9}',), "/autoscaling/maxReplicas"),
    ],
)
def test_replicas_above_the_partitions_are_refused_by_the_schema(
    helm_binary: Path, sets: tuple[str, ...], path: str
) -> None:
    message = _refusal(helm_binary, *sets)
    assert "values don't meet the specifications of the schema" in message
    assert f"'{path}': maximum" in message


def test_replicas_equal_to_the_partitions_are_accepted(helm_binary: Path) -> None:
    text = render_text(
        helm_binary,
        ["-f", str(chart_schema.CHART / "ci" / "base-values.yaml"), "--set-json", "replicaCount=6"],
    )
    assert "replicas: 6" in text


def test_a_disabled_autoscaler_does_not_bound_the_partitions(helm_binary: Path) -> None:
    """A 3-partition topic with the autoscalers off: their (default 6) maxima do not matter."""
    text = render_text(
        helm_binary,
        [
            "-f",
            str(chart_schema.CHART / "ci" / "base-values.yaml"),
            "--set-json",
            'kafka={"partitions": 3}',
            "--set-json",
            "replicaCount=3",
        ],
    )
    assert "replicas: 3" in text


def test_beyond_the_schema_clauses_the_template_still_refuses(helm_binary: Path) -> None:
    partitions = chart_schema.MAX_PARTITIONS + 10
    message = _refusal(
        helm_binary, f'kafka={{"partitions": {partitions}}}', f"replicaCount={partitions + 1}"
    )
    assert f"replicaCount ({partitions + 1}) is above kafka.partitions ({partitions})" in message


def test_the_schema_is_valid_draft_7_and_its_clauses_are_current() -> None:
    schema = json.loads(chart_schema.SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    assert chart_schema.main(["check"]) == 0
    assert len(schema["allOf"]) == chart_schema.MAX_PARTITIONS


def test_the_default_values_meet_the_schema() -> None:
    import yaml

    schema = json.loads(chart_schema.SCHEMA.read_text())
    values = yaml.safe_load((chart_schema.CHART / "values.yaml").read_text())
    jsonschema.Draft7Validator(schema).validate(values)
