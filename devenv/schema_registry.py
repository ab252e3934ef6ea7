"""A real Schema Registry for the Confluent-framed path: Apicurio Registry from Maven Central.

Its Confluent-compatible API (`/apis/ccompat/v7`) is what the service and its tests talk to; the
storage is in memory (H2), so every start is empty. Importable, and a small command line:

    python devenv/schema_registry.py fetch          # the distribution into the cache, once
    python devenv/schema_registry.py run [--port P] # in the foreground until Ctrl-C

Why Apicurio 2.6.x and not 3.x: devenv/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

if __package__ in (None, ""):  # run as a script: make `devenv` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devenv.kafka_local import (
    DevenvError,
    cache_root,
    check_tools,
    die_with_parent,
    file_lock,
    free_port,
    mvn_fetch,
    tail_file,
)

# 3.x needs Java 21 (its classes are version 65); 2.6.13.Final runs on the project's Java 17.
APICURIO_VERSION = "2.6.13.Final"
ARTIFACT = f"io.apicurio:apicurio-registry-app:{APICURIO_VERSION}:tar.gz:all"
RUNNER_JAR = f"apicurio-registry-app-{APICURIO_VERSION}-runner.jar"
CCOMPAT_PATH = "/apis/ccompat/v7"
READY_TIMEOUT_S = 120.0


class RegistryStartError(DevenvError):
    """The registry died or did not become ready in time; the message holds its log tail."""


def registry_dir() -> Path:
    return cache_root() / f"apicurio-registry-{APICURIO_VERSION}"


def ensure_jars() -> Path:
    """The unpacked distribution (runner jar + lib/); fetched with mvn on first use only."""
    target = registry_dir() / "app"
    stamp = registry_dir() / ".fetched"
    if stamp.is_file() and (target / RUNNER_JAR).is_file():
        return target
    check_tools()
    with file_lock(registry_dir() / ".lock"):
        if stamp.is_file() and (target / RUNNER_JAR).is_file():
            return target
        staging = Path(tempfile.mkdtemp(prefix="dist-", dir=registry_dir()))
        try:
            download = staging / "download"
            download.mkdir()
            mvn_fetch(
                [
                    "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
                    f"-Dartifact={ARTIFACT}",
                ],
                download,
            )
            archives = list(download.glob("*.tar.gz"))
            if len(archives) != 1:
                raise DevenvError(f"mvn did not copy {ARTIFACT} into {download}")
            unpacked = staging / "app"
            with tarfile.open(archives[0]) as archive:
                archive.extractall(unpacked, filter="data")
            if not (unpacked / RUNNER_JAR).is_file():
                raise DevenvError(f"{archives[0].name} holds no {RUNNER_JAR}")
            if target.exists():
                shutil.rmtree(target)
            unpacked.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        stamp.write_text(ARTIFACT + "\n")
    return target


@dataclass
class Registry:
    """A running registry; `url` is the Confluent-compatible base URL clients take."""

    process: subprocess.Popen[bytes]
    run_dir: Path
    port: int
    log_path: Path
    started_in_s: float = 0.0
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + CCOMPAT_PATH

    def log_tail(self, lines: int = 40) -> str:
        return tail_file(self.log_path, lines)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def start_registry(
    run_dir: Path, port: int, *, heap: str = "256m", timeout: float = READY_TIMEOUT_S
) -> Registry:
    """Start the registry on 127.0.0.1:port and wait until health and the ccompat API answer."""
    app = ensure_jars()
    run_dir = run_dir.resolve()
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    log_path = run_dir / "registry.log"
    log = log_path.open("ab")
    cmd = [
        "java",
        f"-Xmx{heap}",
        "-XX:+ExitOnOutOfMemoryError",
        # C1 only: a test service starts faster and never runs long enough to need C2
        "-XX:TieredStopAtLevel=1",
        f"-Djava.io.tmpdir={run_dir / 'tmp'}",
        f"-Dquarkus.http.port={port}",
        "-Dquarkus.http.host=127.0.0.1",
        "-Dquarkus.log.level=WARN",
        "-jar",
        str(app / RUNNER_JAR),
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=run_dir,
        preexec_fn=die_with_parent,
    )
    registry = Registry(process, run_dir, port, log_path, _log=log)
    deadline = started + timeout
    try:
        while not (
            _http_ok(registry.base_url + "/health/ready") and _http_ok(registry.url + "/subjects")
        ):
            if process.poll() is not None:
                raise RegistryStartError(
                    f"the Schema Registry exited during startup (exit {process.returncode})\n"
                    f"--- last lines of {log_path} ---\n{registry.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise RegistryStartError(
                    f"the Schema Registry on port {port} was not ready within {timeout:.0f} s\n"
                    f"--- last lines of {log_path} ---\n{registry.log_tail()}"
                )
            time.sleep(0.2)
    except BaseException:
        registry.stop(timeout=2)
        raise
    registry.started_in_s = time.monotonic() - started
    return registry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The local Schema Registry (Apicurio)")
    parser.add_argument("command", choices=["fetch", "run"])
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            started = time.monotonic()
            app = ensure_jars()
            took = time.monotonic() - started
            print(f"Apicurio Registry {APICURIO_VERSION} ready in {app} ({took:.1f} s)")
            return 0
        with tempfile.TemporaryDirectory(prefix="schema-registry-") as run_dir:
            registry = start_registry(Path(run_dir), args.port or free_port())
            print(
                f"Schema Registry ready: {registry.url} (started in {registry.started_in_s:.1f} s; "
                "Ctrl-C stops it)",
                flush=True,
            )
            with contextlib.suppress(KeyboardInterrupt):
                registry.process.wait()
            registry.stop()
        return 0
    except DevenvError as exc:
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
