"""The container image, built by `make image`'s code (buildah on the cached debootstrap base) once
per session and run with `buildah run`: its user, its contents, and the demo's path through it
against the local broker and emulator on the host network."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devenv import image, kafka_local
from devenv.stack import DEMO_CREDENTIALS, LocalStack
from tests.deploy.chart import FULLNAME, find, manifests, one, render_text

pytestmark = pytest.mark.slow

EVENTS = 600
# Build tooling and the emulator's web stack: none of them belongs in the runtime image.
NOT_IN_IMAGE = (
    "starlette",
    "uvicorn",
    "jsonpatch",
    "aep_emulator",
    "devenv",
    "pytest",
    "hypothesis",
    "mypy",
    "ruff",
    "pip",
    "setuptools",
)
# Paths the run may write to besides the two mounted volumes: buildah itself sets these up.
RUNTIME_FILES = {"etc/hosts", "etc/resolv.conf", "etc/hostname", "run", "dev", "proc", "sys"}


@dataclass
class Container:
    """A working container of the image; `run` is `buildah run` with the two writable paths
    (/tmp and the state directory) bind-mounted, as the chart mounts emptyDirs."""

    name: str
    tmp: Path
    state: Path

    def run(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        timeout: float = 300,
        mounts: Mapping[Path, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """`mounts`: host directory -> path in the container, read-only (the Secret volumes)."""
        cmd = ["buildah", "run", "--isolation", "chroot", "--network", "host"]
        cmd += ["-v", f"{self.tmp}:/tmp", "-v", f"{self.state}:/var/lib/profile-sync/state"]
        for host, inside in (mounts or {}).items():
            cmd += ["-v", f"{host}:{inside}:ro"]
        for key, value in (env or {}).items():
            cmd += ["--env", f"{key}={value}"]
        cmd += [self.name, "--", *argv]
        return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)


@pytest.fixture(scope="session")
def built_image() -> image.BuiltImage:
    built = image.build_image()
    print(
        f"\nimage {built.name}: {built.size}, build {built.build_seconds:.1f} s "
        f"(base from {built.base.source}, {built.base.seconds:.1f} s)"
    )
    return built


@pytest.fixture(scope="session")
def container(
    built_image: image.BuiltImage, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Container]:
    name = subprocess.run(
        ["buildah", "from", "--pull-never", built_image.name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    writable = tmp_path_factory.mktemp("image-volumes")
    tmp, state = writable / "tmp", writable / "state"
    for path in (tmp, state):
        path.mkdir()
        os.chown(path, 10001, 10001)
    try:
        yield Container(name, tmp, state)
    finally:
        subprocess.run(["buildah", "rm", name], capture_output=True, check=False)


def _inspect(name: str) -> dict[str, Any]:
    done = subprocess.run(
        ["buildah", "inspect", "--type", "image", name], capture_output=True, text=True, check=True
    )
    inspected: dict[str, Any] = json.loads(done.stdout)
    return inspected


def test_make_image_builds_the_image_on_the_local_base(built_image: image.BuiltImage) -> None:
    config = _inspect(built_image.name)["OCIv1"]["config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["profile-sync"]
    assert config["Cmd"] == ["run"]
    assert "PROFILE_SYNC_STATE_DIR=/var/lib/profile-sync/state" in config["Env"]
    assert "TMPDIR=/tmp" in config["Env"]
    labels = config["Labels"]
    assert labels["org.opencontainers.image.title"] == "commerce-profile-sync"
    assert labels["org.opencontainers.image.version"] == image.project_version()
    assert labels["org.opencontainers.image.revision"] != "unknown"
    assert built_image.base.name.startswith(image.BASE_REPOSITORY)
    # The build's pip settings were a secret: neither in the history nor in a layer.
    history = json.dumps(_inspect(built_image.name)["History"])
    assert "pip.conf" not in history.replace("id=pip.conf", "")
    assert image.IMAGE_CA_BUNDLE not in history
    # A second build reuses the base and every layer.
    again = image.build_image()
    assert again.base.source == "storage"
    assert _inspect(again.name)["FromImageID"] == _inspect(built_image.name)["FromImageID"]


def test_help_runs_as_uid_10001(container: Container) -> None:
    done = container.run(
        ["python3", "-c", "import os, sys; print(os.getuid(), os.getgid(), sys.prefix)"]
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["10001", "10001", "/opt/profile-sync"]
    helped = container.run(["profile-sync", "--help"])
    assert helped.returncode == 0, helped.stderr
    assert "Usage: profile-sync" in helped.stdout
    for command in ("run", "init", "map"):
        assert command in helped.stdout


def _importable(container: Container, names: Sequence[str]) -> list[str]:
    probe = (
        "import importlib.util, json, sys\n"
        "print(json.dumps([n for n in sys.argv[1:] if importlib.util.find_spec(n)]))\n"
    )
    done = container.run(["python3", "-c", probe, *names])
    assert done.returncode == 0, done.stderr
    found: list[str] = json.loads(done.stdout)
    return found


def test_the_image_has_no_emulator_and_no_build_tools(container: Container) -> None:
    assert _importable(container, NOT_IN_IMAGE) == []
    leftovers = container.run(
        ["sh", "-c", "ls -d /run/secrets/* /src /wheels /native-wheels 2>/dev/null; true"]
    )
    assert leftovers.stdout.strip() == ""
    # The same probe finds what is there.
    runtime = [
        "consumer",
        "mappers",
        "schemas",
        "profile_sync_core",
        "confluent_kafka",
        "fastavro",
        "httpx",
    ]
    assert _importable(container, runtime) == runtime


@dataclass
class ChartContainer:
    """What the chart gives one container: its environment and its Secret volumes (host
    directory holding the files -> mount path)."""

    env: dict[str, str]
    mounts: dict[Path, str]


def _chart_env(
    helm_binary: Path, stack: LocalStack, files: Path
) -> tuple[ChartContainer, ChartContainer]:
    """The environment and Secret volumes the chart gives the init hook and the consumer,
    rendered with values that point at the local stack: (init Job, Deployment), secrets
    resolved from the rendered Secrets and written under `files` as the kubelet would."""
    values = {
        "kafka": {
            "bootstrapServers": stack.bootstrap,
            "partitions": stack.partitions,
            "topic": stack.topic,
            "dlqTopic": stack.dlq_topic,
        },
        "aep": {
            "imsUrl": stack.emulator_url,
            "platformUrl": stack.emulator_url,
            "clientId": DEMO_CREDENTIALS["PROFILE_SYNC_AEP_CLIENT_ID"],
            "orgId": DEMO_CREDENTIALS["PROFILE_SYNC_AEP_ORG_ID"],
            "clientSecret": DEMO_CREDENTIALS["PROFILE_SYNC_AEP_CLIENT_SECRET"],
        },
        "health": {"port": kafka_local.free_port()},
        "logLevel": "WARNING",
        # The emulator's dataflow warm-up (none), so `run` does not wait AEP's five minutes.
        "settings": {"AEP_DATAFLOW_WARMUP_S": stack.emulator_options.dataflow_warmup_s},
    }
    args = [
        arg for key, value in values.items() for arg in ("--set-json", f"{key}={json.dumps(value)}")
    ]
    docs = manifests(render_text(helm_binary, args))
    secrets = {
        doc["metadata"]["name"]: {k: base64.b64decode(v).decode() for k, v in doc["data"].items()}
        for doc in find(docs, "Secret")
    }
    config_maps = {doc["metadata"]["name"]: doc["data"] for doc in find(docs, "ConfigMap")}

    def resolve(pod: dict[str, Any], container: dict[str, Any]) -> ChartContainer:
        volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
        mounts: dict[Path, str] = {}
        for mount in container.get("volumeMounts", []):
            secret = volumes[mount["name"]].get("secret")
            if secret is None:
                continue
            host = files / f"{container['name']}-{mount['name']}"
            host.mkdir(parents=True)
            for item in secret["items"]:
                target = host / item["path"]
                target.write_text(secrets[secret["secretName"]][item["key"]])
                os.chown(target, 10001, 10001)
            mounts[host] = mount["mountPath"]
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            env.update(config_maps[source["configMapRef"]["name"]])
        for item in container.get("env", []):
            if "value" in item:
                env[item["name"]] = item["value"]
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                env[item["name"]] = secrets[ref["name"]][ref["key"]]
        return ChartContainer(env, mounts)

    init_pod = one(docs, "Job", f"{FULLNAME}-init")["spec"]["template"]["spec"]
    consumer_pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    init, consumer = init_pod["containers"][0], consumer_pod["containers"][0]
    assert init["image"] == consumer["image"]
    return resolve(init_pod, init), resolve(consumer_pod, consumer)


def _written_outside_volumes(root: Path, since: float, mount_points: Sequence[str]) -> list[str]:
    """Files changed since `since`, besides the volumes and the directories buildah makes for the
    Secret volumes' mount points."""
    made_by_buildah = {
        "/".join(Path(point).parts[1:i])
        for point in mount_points
        for i in range(2, len(Path(point).parts) + 1)
    }
    written = []
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if relative in made_by_buildah:
            continue
        if relative.split("/")[0] in {"tmp", "proc", "sys", "dev", "run"}:
            continue
        if relative.startswith("var/lib/profile-sync/state") or relative in RUNTIME_FILES:
            continue
        try:
            if path.lstat().st_mtime > since:
                written.append(relative)
        except FileNotFoundError:
            continue
    return written


def test_init_and_run_in_the_image_deliver_everything(
    container: Container, helm_binary: Path, tmp_path: Path
) -> None:
    """The init hook's and the consumer's commands and environment, as the chart renders them,
    run in the image against the local broker and emulator."""
    mounted = Path(
        subprocess.run(
            ["buildah", "mount", container.name], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    with LocalStack(partitions=3, work_dir=tmp_path / "stack") as stack:
        init, consumer = _chart_env(helm_binary, stack, tmp_path / "secret-volumes")
        started = time.time()

        plan = container.run(["profile-sync", "init", "--plan"], init.env, mounts=init.mounts)
        assert plan.returncode == 2, plan.stderr[-3000:]  # 2: changes pending
        assert "nothing was written (--plan)" in plan.stdout + plan.stderr
        applied = container.run(["profile-sync", "init", "--json"], init.env, mounts=init.mounts)
        assert applied.returncode == 0, applied.stderr[-3000:]
        changes = json.loads(applied.stdout.strip().splitlines()[-1])["changes"]
        # The plan wrote nothing: everything it listed was still to create.
        assert {change["kind"] for change in changes} >= {"schema", "dataset"}
        replan = container.run(["profile-sync", "init", "--plan"], init.env, mounts=init.mounts)
        assert replan.returncode == 0, replan.stderr[-3000:]
        assert "nothing to do" in replan.stdout + replan.stderr

        summary = stack.produce(EVENTS, seed=18, poison_share=0.05)
        assert summary

        # As in the chart: no config file, `run` finds the resources by name.
        ran = container.run(
            ["profile-sync", "run", "--exit-when-idle", "3"],
            consumer.env,
            timeout=600,
            mounts=consumer.mounts,
        )
        assert ran.returncode == 0, ran.stderr[-3000:]

        result = stack.account()
        assert result.produced == EVENTS
        assert result.lost == 0, result.lost_coordinates[:10]
        assert result.delivered > 0
        assert result.dead_lettered > 0  # the poison events, dead-lettered from inside the image
    points = [*init.mounts.values(), *consumer.mounts.values()]
    written = _written_outside_volumes(mounted, started, points)
    assert written == [], f"the run wrote outside /tmp and the state directory: {written[:20]}"
