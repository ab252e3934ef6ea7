"""What the rendered manifests promise: the init hook, secrets only in Secrets, the pod
posture, probes on the health settings, and a grace period longer than the revoke timeout."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.chart import (
    BASE_VALUES,
    CASES,
    FULLNAME,
    SECRET_VALUES,
    RenderError,
    ci,
    env_of,
    find,
    manifests,
    one,
    pod_specs,
    render_text,
)

HOOK = "helm.sh/hook"
WEIGHT = "helm.sh/hook-weight"


def _render(helm_binary: Path, *extra: str) -> list[dict[str, Any]]:
    return manifests(render_text(helm_binary, ["-f", str(BASE_VALUES), *extra]))


def _settings(docs: list[dict[str, Any]]) -> dict[str, str]:
    data: dict[str, str] = one(docs, "ConfigMap", FULLNAME)["data"]
    return data


def _consumer(docs: list[dict[str, Any]]) -> dict[str, Any]:
    container: dict[str, Any] = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    return container


# ----------------------------------------------------------------------------- the init hook


@pytest.mark.parametrize("case", ["defaults", "existing-secret", "sasl"])
def test_init_job_is_a_pre_install_and_pre_upgrade_hook(
    rendered: dict[str, str], case: str
) -> None:
    docs = manifests(rendered[case])
    job = one(docs, "Job", f"{FULLNAME}-init")
    annotations = job["metadata"]["annotations"]
    assert annotations[HOOK] == "pre-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    assert job["spec"]["backoffLimit"] >= 1
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["init"]


@pytest.mark.parametrize("case", ["defaults", "existing-secret", "sasl"])
def test_what_the_init_hook_needs_exists_before_it(rendered: dict[str, str], case: str) -> None:
    """On a first install only hooks exist when the Job starts: everything it references is a
    hook of lower weight, inlined, or the user's own Secret."""
    docs = manifests(rendered[case])
    job = one(docs, "Job", f"{FULLNAME}-init")
    job_weight = int(job["metadata"]["annotations"][WEIGHT])
    earlier = {
        (doc["kind"], doc["metadata"]["name"])
        for doc in docs
        if HOOK in doc["metadata"].get("annotations", {})
        and "pre-install" in doc["metadata"]["annotations"][HOOK]
        and int(doc["metadata"]["annotations"].get(WEIGHT, "0")) < job_weight
    }
    spec = job["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert "envFrom" not in container, "the ConfigMap does not exist yet on a first install"
    assert ("ServiceAccount", spec["serviceAccountName"]) in earlier
    secrets = {
        ref["secretKeyRef"]["name"] for ref in env_of(container).values() if isinstance(ref, dict)
    }
    secrets |= {vol["secret"]["secretName"] for vol in spec["volumes"] if "secret" in vol}
    secrets -= {"kafka-ca"}  # the TLS CA is the user's Secret, like existingSecret
    for name in secrets:
        assert ("Secret", name) in earlier or name == "commerce-profile-sync-credentials", name
    # The inlined settings are the ConfigMap's.
    inlined = {k: v for k, v in env_of(container).items() if isinstance(v, str) and k != "TMPDIR"}
    assert inlined == _settings(docs)


# ----------------------------------------------------------------------------- secrets


@pytest.mark.parametrize("case", [case.name for case in CASES])
def test_no_secret_value_outside_secrets(rendered: dict[str, str], case: str) -> None:
    docs = manifests(rendered[case])
    encoded = [base64.b64encode(value.encode()).decode() for value in SECRET_VALUES]
    for doc in docs:
        text = yaml.safe_dump(doc)
        for plain, b64 in zip(SECRET_VALUES, encoded, strict=True):
            assert plain not in text, f"{doc['kind']}/{doc['metadata']['name']} holds a secret"
            if doc["kind"] != "Secret":
                assert b64 not in text, f"{doc['kind']}/{doc['metadata']['name']} holds a secret"
    for config_map in find(docs, "ConfigMap"):
        for key, value in config_map["data"].items():
            assert not any(word in key for word in ("SECRET", "PASSWORD")) or key.endswith("_FILE")
            assert "password" not in value.lower() or key.endswith("_FILE")


def test_the_secrets_reach_the_pods_by_reference(rendered: dict[str, str]) -> None:
    docs = manifests(rendered["sasl"])
    secret = one(docs, "Secret", FULLNAME)
    assert base64.b64decode(secret["data"]["aep-client-secret"]).decode() == SECRET_VALUES[0]
    assert base64.b64decode(secret["data"]["kafka-sasl-password"]).decode() == SECRET_VALUES[1]
    container = _consumer(docs)
    assert "PROFILE_SYNC_AEP_CLIENT_SECRET" not in env_of(container)
    settings = _settings(docs)
    client_secret_file = Path(settings["PROFILE_SYNC_AEP_CLIENT_SECRET_FILE"])
    password_file = Path(settings["PROFILE_SYNC_KAFKA_SASL_PASSWORD_FILE"])
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert str(password_file.parent) == mounts["secrets"]
    volume = next(
        v
        for v in one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "secrets"
    )
    assert {"key": "kafka-sasl-password", "path": password_file.name} in volume["secret"]["items"]
    assert client_secret_file.parent == password_file.parent
    assert {"key": "aep-client-secret", "path": client_secret_file.name} in volume["secret"][
        "items"
    ]
    kafka = json.loads(settings["PROFILE_SYNC_KAFKA_CONFIG"])
    assert kafka["security.protocol"] == "SASL_SSL"
    assert kafka["sasl.mechanism"] == "SCRAM-SHA-512"
    assert "sasl.password" not in kafka


def test_the_client_secret_can_come_by_secret_key_ref(helm_binary: Path) -> None:
    container = _consumer(_render(helm_binary, "--set", "aep.clientSecretFrom=env"))
    assert env_of(container)["PROFILE_SYNC_AEP_CLIENT_SECRET"] == {
        "secretKeyRef": {"name": FULLNAME, "key": "aep-client-secret"}
    }
    assert "PROFILE_SYNC_AEP_CLIENT_SECRET_FILE" not in env_of(container)


def test_existing_secret_can_be_read_as_files(rendered: dict[str, str]) -> None:
    docs = manifests(rendered["existing-secret"])
    container = _consumer(docs)
    assert "PROFILE_SYNC_AEP_CLIENT_SECRET" not in env_of(container)
    secret_file = Path(_settings(docs)["PROFILE_SYNC_AEP_CLIENT_SECRET_FILE"])
    volume = next(
        v
        for v in one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "secrets"
    )
    assert volume["secret"]["secretName"] == "commerce-profile-sync-credentials"
    assert {"key": "aep-client-secret", "path": secret_file.name} in volume["secret"]["items"]


def test_a_secret_in_settings_is_refused(helm_binary: Path) -> None:
    with pytest.raises(RenderError, match=r"settings\.AEP_CLIENT_SECRET looks like a secret"):
        _render(helm_binary, "--set-json", 'settings={"AEP_CLIENT_SECRET": "x"}')


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('settings={"REVOKE_TIMEOUT_S": "120"}', r"settings\.REVOKE_TIMEOUT_S is set by the chart"),
        ('settings={"health_port": 9000}', r"settings\.health_port is set by the chart"),
        ('otel={"OTEL_METRICS_EXPORTER": "otlp"}', r"set by metrics\.enabled"),
    ],
)
def test_settings_cannot_override_what_the_chart_derives(
    helm_binary: Path, value: str, message: str
) -> None:
    with pytest.raises(RenderError, match=message):
        _render(helm_binary, "--set-json", value)


def test_extra_settings_reach_the_config_map(helm_binary: Path) -> None:
    docs = _render(
        helm_binary,
        "--set-json",
        'settings={"DLQ_GUARD_MAX_SHARE": 0.3, "xdm_tenant_fields": true}',
        "--set-json",
        'otel={"OTEL_TRACES_EXPORTER": "otlp"}',
    )
    settings = _settings(docs)
    assert settings["PROFILE_SYNC_DLQ_GUARD_MAX_SHARE"] == "0.3"
    assert settings["PROFILE_SYNC_XDM_TENANT_FIELDS"] == "true"
    assert settings["OTEL_TRACES_EXPORTER"] == "otlp"


# ----------------------------------------------------------------------------- posture


@pytest.mark.parametrize("case", [case.name for case in CASES])
def test_every_pod_runs_non_root_read_only_without_capabilities(
    rendered: dict[str, str], case: str
) -> None:
    workloads = pod_specs(manifests(rendered[case]))
    assert workloads
    for name, spec in workloads:
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == 10001, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert "add" not in context["capabilities"], name
            assert container["resources"]["limits"]["memory"], name
            # A read-only root: the only writable paths are the two emptyDirs.
            mounts = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
            assert mounts == {"/tmp", "/var/lib/profile-sync/state"}, name


def test_replicas_spread_over_zones_and_nodes(rendered: dict[str, str]) -> None:
    spec = one(manifests(rendered["defaults"]), "Deployment")["spec"]["template"]["spec"]
    keys = {c["topologyKey"] for c in spec["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    for constraint in spec["topologySpreadConstraints"]:
        assert (
            constraint["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "consumer"
        )


# ----------------------------------------------------------------------------- probes


@pytest.mark.parametrize("port", [8080, 9102])
def test_probes_use_the_health_endpoints_on_the_health_port(helm_binary: Path, port: int) -> None:
    docs = _render(helm_binary, "--set-json", f'health={{"port": {port}}}')
    container = _consumer(docs)
    assert _settings(docs)["PROFILE_SYNC_HEALTH_PORT"] == str(port)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"health": port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert container["startupProbe"]["httpGet"] == {"path": "/livez", "port": "health"}


def test_metrics_service_and_monitor_point_at_the_health_port(rendered: dict[str, str]) -> None:
    docs = manifests(rendered["sasl"])
    service = one(docs, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "health"
    monitor = one(docs, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0] == {
        "port": "health",
        "path": "/metrics",
        "interval": "30s",
        "scrapeTimeout": "10s",
    }
    assert _settings(docs)["OTEL_METRICS_EXPORTER"] == "prometheus"
    assert all(
        service["metadata"]["labels"][k] == v
        for k, v in monitor["spec"]["selector"]["matchLabels"].items()
    )


# ----------------------------------------------------------------------------- grace period


@pytest.mark.parametrize(("revoke", "grace"), [(45, None), (120, None), (30, 31), (12.5, None)])
def test_grace_period_is_longer_than_the_revoke_timeout(
    helm_binary: Path, revoke: float, grace: int | None
) -> None:
    extra = ["--set-json", f"revokeTimeoutS={revoke}"]
    if grace is not None:
        extra += ["--set-json", f"terminationGracePeriodSeconds={grace}"]
    docs = _render(helm_binary, *extra)
    period = one(docs, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert float(_settings(docs)["PROFILE_SYNC_REVOKE_TIMEOUT_S"]) == revoke
    assert period > revoke
    if grace is not None:
        assert period == grace


def test_a_grace_period_not_above_the_revoke_timeout_is_refused(helm_binary: Path) -> None:
    with pytest.raises(RenderError, match=r"terminationGracePeriodSeconds \(45\) must be longer"):
        _render(helm_binary, "--set-json", "terminationGracePeriodSeconds=45")


# ----------------------------------------------------------------------------- scaling


@pytest.mark.parametrize(("case", "most"), [("defaults", 1), ("keda", 12), ("hpa", 8)])
def test_rate_limits_are_shared_by_the_most_replicas_that_can_run(
    rendered: dict[str, str], case: str, most: int
) -> None:
    docs = manifests(rendered[case])
    assert _settings(docs)["PROFILE_SYNC_EXPECTED_REPLICAS"] == str(most)
    deployment = one(docs, "Deployment")
    assert ("replicas" in deployment["spec"]) == (case == "defaults")


def test_keda_scales_on_the_consumer_group_lag(rendered: dict[str, str]) -> None:
    docs = manifests(rendered["keda"])
    scaled = one(docs, "ScaledObject")
    trigger = scaled["spec"]["triggers"][0]
    settings = _settings(docs)
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == settings["PROFILE_SYNC_GROUP_ID"]
    assert trigger["metadata"]["topic"] == settings["PROFILE_SYNC_TOPIC"]
    assert (
        trigger["metadata"]["bootstrapServers"] == settings["PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS"]
    )
    assert scaled["spec"]["maxReplicaCount"] == 12
    assert scaled["spec"]["scaleTargetRef"]["name"] == one(docs, "Deployment")["metadata"]["name"]


def test_keda_and_hpa_together_are_refused(helm_binary: Path) -> None:
    with pytest.raises(RenderError, match="enable one of them"):
        _render(helm_binary, "-f", str(ci("keda")), "--set-json", 'autoscaling={"enabled": true}')


def test_one_off_jobs_run_the_command_with_the_release_settings(rendered: dict[str, str]) -> None:
    docs = manifests(rendered["replay-job"])
    job = one(docs, "Job", f"{FULLNAME}-replay-1")
    assert HOOK not in job["metadata"].get("annotations", {})
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["replay", "--from", "2h"]
    assert container["envFrom"] == [{"configMapRef": {"name": FULLNAME}}]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    labels = job["spec"]["template"]["metadata"]["labels"]
    # Not a consumer: the Deployment, PDB and Service must not count it.
    assert labels["app.kubernetes.io/component"] == "replay"
    assert not find(manifests(rendered["defaults"]), "Job", f"{FULLNAME}-replay-1")
