"""checkov on every rendered combination and on the Dockerfile; the checks turned off are the
ones the chart's README names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from devenv import checkov_tool
from devenv.chart_schema import CHART
from tests.deploy.chart import CASES

ROOT = CHART.parents[1]


@pytest.fixture(scope="module")
def checkov() -> Path:
    return checkov_tool.ensure_checkov()


def _results(output: str) -> list[dict[str, Any]]:
    parsed = json.loads(output)
    return parsed if isinstance(parsed, list) else [parsed]


def test_rendered_manifests_pass_checkov(
    checkov: Path, rendered: dict[str, str], tmp_path: Path
) -> None:
    for case in CASES:
        (tmp_path / f"{case.name}.yaml").write_text(rendered[case.name])
    # A privileged pod in the same run shows the run can fail (and is the only thing failing).
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged", "namespace": "profile-sync"},
        "spec": {
            "containers": [{"name": "c", "image": "x:1", "securityContext": {"privileged": True}}]
        },
    }
    (tmp_path / "zz-canary.yaml").write_text(yaml.safe_dump(pod))
    done = checkov_tool.run_checkov(
        ["-d", str(tmp_path), "--config-file", str(CHART / ".checkov.yaml"), "-o", "json"]
    )
    results = _results(done.stdout)
    failed = [
        (Path(check["file_path"]).name, check["check_id"], check["resource"])
        for result in results
        for check in result["results"]["failed_checks"]
    ]
    chart_failures = [f for f in failed if f[0] != "zz-canary.yaml"]
    assert not chart_failures, "\n".join(map(str, chart_failures))
    assert ("zz-canary.yaml", "CKV_K8S_16", "Pod.profile-sync.privileged") in failed
    assert done.returncode == 1, done.stderr[-2000:]
    passed = sum(result["summary"]["passed"] for result in results)
    assert passed > 100 * len(CASES) / 3


def test_dockerfile_passes_checkov(checkov: Path) -> None:
    done = checkov_tool.run_checkov(
        ["-f", str(ROOT / "Dockerfile"), "--framework", "dockerfile", "-o", "json"]
    )
    results = _results(done.stdout)
    assert done.returncode == 0, done.stdout[-3000:]
    assert results[0]["summary"]["passed"] > 20
    assert results[0]["summary"]["failed"] == 0


def test_every_check_turned_off_is_named_with_a_reason_in_the_readme() -> None:
    config = yaml.safe_load((CHART / ".checkov.yaml").read_text())
    skipped = set(config["skip-check"])
    skipped |= set(re.findall(r"checkov:skip=(CKV_\w+)", (ROOT / "Dockerfile").read_text()))
    readme = (CHART / "README.md").read_text()
    for check in skipped:
        line = next((row for row in readme.splitlines() if check in row), "")
        assert line, f"{check} is turned off but the chart README does not name it"
        assert len(line.split(check, 1)[1].strip(" |:-")) > 20, f"{check}: no reason given"
