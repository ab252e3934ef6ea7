"""helm lint, and every values file and combination rendered and validated against the
Kubernetes API schemas (1.30, the oldest the chart supports, and the newest known)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from devenv.chart_schema import CHART
from tests.deploy.chart import CASES, helm, manifests
from tests.deploy.crd_schemas import validate_custom_resource

KUBE_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
CUSTOM_KINDS = {"ScaledObject", "TriggerAuthentication", "ServiceMonitor"}


def test_helm_lint_passes_with_every_values_file(helm_binary: Path) -> None:
    for case in CASES:
        done = helm(helm_binary, ["lint", "--strict", str(CHART), *case.args()])
        assert done.returncode == 0, f"{case.name}:\n{done.stdout}{done.stderr}"
        assert "0 chart(s) failed" in done.stdout


@pytest.mark.parametrize("case", [case.name for case in CASES])
def test_rendered_manifests_validate_against_kubernetes_schemas(
    rendered: dict[str, str], case: str
) -> None:
    docs = manifests(rendered[case])
    assert docs, f"{case} rendered nothing"
    kinds = {doc["kind"] for doc in docs}
    assert {"Deployment", "ConfigMap", "Job"} <= kinds
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in CUSTOM_KINDS:
            validate_custom_resource(doc)
            continue
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{case}: {name} is invalid for Kubernetes {version}: {exc.message}")


def test_the_combinations_render_what_they_enable(rendered: dict[str, str]) -> None:
    def kinds(case: str) -> set[str]:
        return {doc["kind"] for doc in manifests(rendered[case])}

    assert "ScaledObject" in kinds("keda")
    assert "HorizontalPodAutoscaler" not in kinds("keda")
    assert "HorizontalPodAutoscaler" in kinds("hpa")
    assert "ScaledObject" not in kinds("hpa")
    assert "Secret" in kinds("defaults")
    assert {"TriggerAuthentication", "ServiceMonitor", "Service", "NetworkPolicy"} <= kinds("sasl")
    assert "ScaledObject" not in kinds("defaults")


def test_existing_secret_makes_the_chart_create_no_secret(rendered: dict[str, str]) -> None:
    docs = manifests(rendered["existing-secret"])
    assert not [doc for doc in docs if doc["kind"] == "Secret"]
    referenced: set[str] = set()
    for doc in docs:
        _collect_secret_names(doc, referenced)
    assert referenced == {"commerce-profile-sync-credentials"}


def _collect_secret_names(node: Any, into: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"secretKeyRef", "secret"} and isinstance(value, dict):
                into.add(value.get("name") or value.get("secretName"))
            _collect_secret_names(value, into)
    elif isinstance(node, list):
        for item in node:
            _collect_secret_names(item, into)


def test_notes_name_the_init_job_the_consumers_and_the_one_off_jobs(helm_binary: Path) -> None:
    args = ["install", "cps", str(CHART), "-n", "commerce", "--dry-run=client"]
    args += [*CASES[0].args(), "-f", str(CHART / "ci" / "keda-values.yaml")]
    done = helm(helm_binary, args)
    assert done.returncode == 0, done.stderr
    notes = done.stdout.split("NOTES:", 1)[1]
    assert "kubectl logs -n commerce job/cps-commerce-profile-sync-init" in notes
    assert "Consumers: 1-12 (KEDA" in notes
    assert "of at most 12" in notes
    assert "60 s to hand back its partitions (revoke timeout 45 s)" in notes
    assert "--show-only templates/oneoff-job.yaml" in notes
    assert "ci-aep-secret-value" not in done.stdout.split("NOTES:", 1)[1]
