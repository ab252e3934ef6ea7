"""Rendering the chart with the cached helm, for the deploy tests."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devenv.chart_schema import CHART

NAMESPACE = "profile-sync"
RELEASE = "cps"
FULLNAME = f"{RELEASE}-commerce-profile-sync"
KUBE_VERSION = "1.30.0"
BASE_VALUES = CHART / "ci" / "base-values.yaml"
# The plaintext secrets of ci/base-values.yaml and ci/sasl-values.yaml.
SECRET_VALUES = ("ci-aep-secret-value", "ci-sasl-secret-value")


@dataclass(frozen=True)
class Case:
    """One way to render the chart: values files (after the base) and --set-json pairs."""

    name: str
    files: tuple[Path, ...] = ()
    sets: Mapping[str, Any] = field(default_factory=dict)
    base: bool = True

    def args(self) -> list[str]:
        files = ((BASE_VALUES,) if self.base else ()) + self.files
        args = [arg for path in files for arg in ("-f", str(path))]
        for key, value in self.sets.items():
            args += ["--set-json", f"{key}={json.dumps(value)}"]
        return args


def ci(name: str) -> Path:
    return CHART / "ci" / f"{name}-values.yaml"


CASES: tuple[Case, ...] = (
    Case("defaults"),
    Case("example-single", (CHART / "examples" / "values-single.yaml",), base=False),
    Case("example-scaled", (CHART / "examples" / "values-scaled.yaml",), base=False),
    Case("keda", (ci("keda"),)),
    Case("hpa", (ci("hpa"),)),
    Case("existing-secret", (ci("existing-secret"),)),
    Case("sasl", (ci("sasl"),)),
    Case("replay-job", sets={"oneOff.name": "replay-1", "oneOff.args": ["replay", "--from", "2h"]}),
    Case("dlq-job", sets={"oneOff.name": "dlq-stats", "oneOff.args": ["dlq", "stats"]}),
)


class RenderError(RuntimeError):
    pass


def helm(binary: Path, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *args], capture_output=True, text=True, check=False, timeout=120
    )


def render_text(binary: Path, args: Iterable[str]) -> str:
    done = helm(
        binary,
        [
            "template",
            RELEASE,
            str(CHART),
            "--namespace",
            NAMESPACE,
            "--kube-version",
            KUBE_VERSION,
            *args,
        ],
    )
    if done.returncode != 0:
        raise RenderError(done.stderr.strip())
    return done.stdout


def manifests(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(
    docs: Iterable[dict[str, Any]], kind: str, name: str | None = None
) -> list[dict[str, Any]]:
    return [
        doc
        for doc in docs
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]


def one(docs: Iterable[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = find(docs, kind, name)
    assert len(found) == 1, f"{len(found)} {kind} {name or ''} rendered"
    return found[0]


def pod_specs(docs: Iterable[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(kind/name, pod spec) of every workload."""
    return [
        (f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"])
        for doc in docs
        if doc["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}
    ]


def env_of(container: Mapping[str, Any]) -> dict[str, Any]:
    return {
        item["name"]: item.get("value", item.get("valueFrom")) for item in container.get("env", [])
    }
