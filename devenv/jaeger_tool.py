"""Jaeger for the tracing tests, built from the Go module proxy and cached like the Kafka jars.

    python devenv/jaeger_tool.py fetch     # once (~15 min cold): build jaeger v1.75.0
    python devenv/jaeger_tool.py path      # the cached binary
    python devenv/jaeger_tool.py up        # run it in the foreground on free ports

`go install github.com/jaegertracing/jaeger/cmd/jaeger@v1.75.0` refuses the module (its go.mod
has replace directives), so the module is downloaded (`go mod download -json`), copied to a
writable directory and built there (`go build -trimpath ./cmd/jaeger`). Everything lives in
`~/.cache/commerce-profile-sync/jaeger-<version>/` (or under `$PROFILE_SYNC_DEVENV_CACHE`):
`bin/jaeger`, the source copy `src/`, and GOPATH and GOCACHE beside them, so the build neither
reads nor fills the user's own Go directories. The Go build cache is dropped once the binary
exists.

`start_jaeger` runs the binary (Jaeger v2: an OpenTelemetry Collector distribution) with a
config of its own: OTLP gRPC and HTTP receivers, in-memory storage and the query service's HTTP
API, each on a free loopback port, nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devenv.helm_tool import _go
from devenv.kafka_local import (
    DevenvError,
    _terminate,
    cache_root,
    die_with_parent,
    file_lock,
    free_port,
    tail_file,
)

JAEGER_VERSION = "v1.75.0"
JAEGER_MODULE = "github.com/jaegertracing/jaeger"
START_TIMEOUT_S = 60.0

CONFIG = """\
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:{query_http}
    grpc:
      endpoint: 127.0.0.1:{query_grpc}
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:{health}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{otlp_grpc}
      http:
        endpoint: 127.0.0.1:{otlp_http}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
"""


def jaeger_dir() -> Path:
    return cache_root() / f"jaeger-{JAEGER_VERSION}"


def jaeger_path() -> Path:
    return jaeger_dir() / "bin" / "jaeger"


def _run_go(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise DevenvError(f"{' '.join(cmd)} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def ensure_jaeger() -> Path:
    """The jaeger binary, built on first use only."""
    binary = jaeger_path()
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    go = _go()
    root = jaeger_dir()
    with file_lock(root / ".lock"):
        if binary.is_file():
            return binary
        env = {
            **os.environ,
            "GOPATH": str(root / "gopath"),
            "GOCACHE": str(root / "gocache"),
            "GOFLAGS": "-modcacherw -mod=mod",
            "CGO_ENABLED": "0",
        }
        module = json.loads(
            _run_go([go, "mod", "download", "-json", f"{JAEGER_MODULE}@{JAEGER_VERSION}"], env)
        )
        source = root / "src"
        shutil.rmtree(source, ignore_errors=True)
        # The module cache is read-only and the build writes go.sum: build in a copy.
        shutil.copytree(module["Dir"], source)
        for path in source.rglob("*"):
            path.chmod(path.stat().st_mode | 0o200)
        partial = root / "bin.partial" / "jaeger"
        _run_go([go, "build", "-trimpath", "-o", str(partial), "./cmd/jaeger"], env, cwd=source)
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial.rename(binary)
        shutil.rmtree(root / "bin.partial", ignore_errors=True)
        shutil.rmtree(root / "gocache", ignore_errors=True)
    return binary


@dataclass
class Jaeger:
    """A running Jaeger: OTLP endpoints to export to, and the query API to read traces from."""

    process: subprocess.Popen[bytes]
    otlp_grpc_port: int
    otlp_http_port: int
    query_port: int
    log_path: Path
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def otlp_grpc_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.otlp_grpc_port}"

    @property
    def otlp_http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.otlp_http_port}"

    @property
    def query_url(self) -> str:
        return f"http://127.0.0.1:{self.query_port}"

    def stop(self) -> None:
        _terminate(self.process.pid, lambda: self.process.poll() is not None, 10)
        self.process.wait(5)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_jaeger(run_dir: Path) -> Jaeger:
    """Start the cached binary on free loopback ports; returns once its query API answers."""
    binary = ensure_jaeger()
    run_dir.mkdir(parents=True, exist_ok=True)
    names = ("otlp_grpc", "otlp_http", "query_http", "query_grpc", "health")
    ports = {name: free_port() for name in names}
    config = run_dir / "jaeger.yaml"
    config.write_text(CONFIG.format(**ports))
    log_path = run_dir / "jaeger.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(binary), f"--config=file:{config}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            # Jaeger traces itself through the OTel SDK's variables: sampled off, and sent (if
            # ever) to its own receiver, never to a default port another process may hold.
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
                "OTEL_TRACES_SAMPLER": "always_off",
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{ports['otlp_grpc']}",
            },
            preexec_fn=die_with_parent,
        )
    jaeger = Jaeger(
        process, ports["otlp_grpc"], ports["otlp_http"], ports["query_http"], log_path, ports
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers(f"{jaeger.query_url}/api/services"):
        if process.poll() is not None or time.monotonic() > deadline:
            jaeger.stop()
            raise DevenvError(f"jaeger did not start:\n{tail_file(log_path)}")
        time.sleep(0.2)
    return jaeger


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The cached Jaeger binary")
    parser.add_argument("command", choices=["fetch", "path", "up"])
    args = parser.parse_args(argv)
    try:
        if args.command == "path":
            print(jaeger_path())
            return 0 if jaeger_path().is_file() else 1
        started = time.monotonic()
        binary = ensure_jaeger()
        if args.command == "up":
            jaeger = start_jaeger(Path(".devenv") / "jaeger")
            print(
                f"jaeger: OTLP grpc {jaeger.otlp_grpc_endpoint}, http {jaeger.otlp_http_endpoint}, "
                f"UI and query API {jaeger.query_url} (Ctrl-C stops it)"
            )
            try:
                jaeger.process.wait()
            except KeyboardInterrupt:
                jaeger.stop()
            return 0
    except DevenvError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"jaeger {JAEGER_VERSION} ready in {binary} ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
