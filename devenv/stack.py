"""The local stack the demo and the benchmarks drive: a Kafka broker, the AEP emulator in its own
process, topics, and the `profile-sync` commands run as child processes against them.

    with LocalStack(partitions=6) as stack:
        config = stack.init()                      # `profile-sync init --json` -> config file
        stack.produce(10_000, seed=7, poison_share=0.02)
        stack.run_until_idle(config, idle_s=3)     # `profile-sync run --exit-when-idle 3`
        print(stack.account().line())

Everything runs on free loopback ports in a temporary directory, with
`auto.create.topics.enable=false` as on production brokers; leaving the block stops every
process started here, in reverse order. The emulator is a separate interpreter (its own GIL), so
it never competes with the process that measures.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aep_emulator.options import EmulatorOptions
from aep_emulator.server import options_to_argv
from devenv import kafka_local
from devenv.accounting import Accounting, account

TOPIC = "commerce.customer.v1"
DLQ_TOPIC = "commerce.customer.v1.dlq"
PROFILE_SYNC = str(Path(sys.executable).with_name("profile-sync"))
DEMO_CREDENTIALS: Mapping[str, str] = {
    "PROFILE_SYNC_AEP_CLIENT_ID": "demo-client",
    "PROFILE_SYNC_AEP_CLIENT_SECRET": "demo-secret",
    "PROFILE_SYNC_AEP_ORG_ID": "DEMO0000000000000000000@AdobeOrg",
}
# What a consumer sets to take AEP's guardrails out of the way (benchmarks measure the pipeline).
NO_RATE_LIMITS: Mapping[str, str] = {
    "PROFILE_SYNC_AEP_MAX_REQUESTS_PER_S": "1000000",
    "PROFILE_SYNC_AEP_MAX_RECORDS_PER_S": "100000000",
}
EMULATOR_READY_S = 30.0


class StepFailedError(RuntimeError):
    """A `profile-sync` command exited non-zero; carries its exit code and stderr."""

    def __init__(self, name: str, returncode: int, stderr: str) -> None:
        super().__init__(f"{name}: exit {returncode}")
        self.name = name
        self.returncode = returncode
        self.stderr = stderr


@dataclass(frozen=True)
class ConsumerExit:
    """How a `run` child ended: exit code, wall time, and its own CPU seconds (wait4 rusage)."""

    returncode: int
    elapsed_s: float
    cpu_s: float
    max_rss_mb: float


def _settings_env(settings: Mapping[str, object]) -> dict[str, str]:
    """`topic="x"` -> `PROFILE_SYNC_TOPIC=x`: the design's flat variables."""
    return {f"PROFILE_SYNC_{key.upper()}": str(value) for key, value in settings.items()}


class LocalStack:
    """Broker + emulator + topics for one `with` block; see the module docstring."""

    def __init__(
        self,
        *,
        partitions: int = 6,
        topic: str = TOPIC,
        dlq_topic: str = DLQ_TOPIC,
        emulator: EmulatorOptions | None = None,
        work_dir: Path | None = None,
        log_level: str = "WARNING",
    ) -> None:
        self.partitions = partitions
        self.topic = topic
        self.dlq_topic = dlq_topic
        # The defaults of `profile-sync emulator` unless told otherwise.
        self.emulator_options = emulator or EmulatorOptions()
        self._work_dir = work_dir
        self._log_level = log_level
        self._stack = ExitStack()
        self.work = Path()
        self.broker: kafka_local.Broker | None = None
        self.emulator_url = ""
        self.emulator_process: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()

    def _start(self) -> None:
        kafka_local.check_tools()
        kafka_local.ensure_jars()
        if self._work_dir is None:
            temporary = tempfile.TemporaryDirectory(prefix="profile-sync-stack-")
            self.work = Path(self._stack.enter_context(temporary))
        else:
            self.work = self._work_dir
            self.work.mkdir(parents=True, exist_ok=True)
        broker = kafka_local.start_broker(
            self.work / "kafka",
            kafka_local.free_port(),
            kafka_local.free_port(),
            {"auto.create.topics.enable": "false"},
        )
        self._stack.callback(broker.stop)
        self.broker = broker
        self.create_topics(self.topic, self.dlq_topic, self.partitions)
        self._start_emulator()

    def _start_emulator(self) -> None:
        options = replace(self.emulator_options, port=kafka_local.free_port())
        self.emulator_options = options
        log = (self.work / "emulator.log").open("wb")
        self._stack.callback(log.close)
        # A session of its own: stopping it stops its validation workers too (their group).
        process = subprocess.Popen(
            [sys.executable, "-m", "aep_emulator", *options_to_argv(options)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._stack.callback(_stop_process_group, process)
        self.emulator_process = process
        self.emulator_url = options.own_url
        deadline = time.monotonic() + EMULATOR_READY_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the emulator exited early; see {self.work / 'emulator.log'}")
            try:
                httpx.get(f"{self.emulator_url}/_emulator/stats", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the emulator did not start in {EMULATOR_READY_S:.0f} s; "
                        f"see {self.work / 'emulator.log'}"
                    ) from None
                time.sleep(0.2)

    @property
    def bootstrap(self) -> str:
        assert self.broker is not None, "use LocalStack in a with block"
        return self.broker.bootstrap

    def create_topics(
        self, topic: str, dlq_topic: str, partitions: int, group_id: str | None = None
    ) -> None:
        """A source topic, its dead-letter topic and its replay topic (`{topic}.replay`, the
        default `PROFILE_SYNC_REPLAY_TOPIC`); with `group_id`, that group's compacted state
        topic too (`{group_id}.state`, the default `PROFILE_SYNC_STATE_TOPIC`), as
        `profile-sync init` creates them."""
        kafka_local.create_topics(
            self.bootstrap,
            {topic: partitions, dlq_topic: partitions, f"{topic}.replay": partitions},
        )
        if group_id is not None:
            kafka_local.create_topics(
                self.bootstrap, {f"{group_id}.state": partitions}, {"cleanup.policy": "compact"}
            )

    # ------------------------------------------------------------------------- commands

    def env(self, **settings: object) -> dict[str, str]:
        """The environment of a `profile-sync` command against this stack; keyword arguments
        set further `PROFILE_SYNC_*` variables (`group_id="g"`, `topic="t"`, ...)."""
        return {
            **os.environ,
            "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "PROFILE_SYNC_TOPIC": self.topic,
            "PROFILE_SYNC_DLQ_TOPIC": self.dlq_topic,
            "PROFILE_SYNC_AEP_IMS_URL": self.emulator_url,
            "PROFILE_SYNC_AEP_PLATFORM_URL": self.emulator_url,
            **DEMO_CREDENTIALS,
            # The emulator's dataflow warm-up, so `run` waits exactly as long as it drops data.
            "PROFILE_SYNC_AEP_DATAFLOW_WARMUP_S": repr(self.emulator_options.dataflow_warmup_s),
            "PROFILE_SYNC_LOG_LEVEL": self._log_level,
            # No health endpoints unless asked for: several stacks may run on one machine.
            "PROFILE_SYNC_HEALTH_PORT": "0",
            **_settings_env(settings),
        }

    def cli(
        self, name: str, args: list[str], env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run one `profile-sync` command to completion; stderr goes to `<work>/<name>.log`.
        Raises StepFailedError on a non-zero exit."""
        result = subprocess.run(
            [PROFILE_SYNC, *args],
            env=dict(env or self.env()),
            capture_output=True,
            text=True,
            check=False,
        )
        (self.work / f"{name}.log").write_text(result.stderr)
        if result.returncode != 0:
            raise StepFailedError(name, result.returncode, result.stderr)
        return result

    def init(self, env: Mapping[str, str] | None = None) -> Path:
        """`profile-sync init --json`; its stdout line is the consumer's config file."""
        config = self.work / "aep.json"
        config.write_text(self.cli("init", ["init", "--json"], env).stdout)
        return config

    def produce(
        self,
        count: int,
        *,
        seed: int = 1,
        poison_share: float = 0.0,
        topic: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """`profile-sync produce` (as fast as the broker takes it); returns its summary line."""
        args = ["produce", "--count", str(count), "--seed", str(seed)]
        args += ["--poison-share", repr(poison_share)]
        if topic is not None:
            args += ["--topic", topic]
        summary: dict[str, Any] = json.loads(self.cli("produce", args, env).stdout)
        return summary

    def start_consumer(
        self,
        config: Path,
        *,
        exit_when_idle: float | None = None,
        env: Mapping[str, str] | None = None,
        name: str = "run",
        command: Sequence[str] = (PROFILE_SYNC,),
    ) -> subprocess.Popen[bytes]:
        """`profile-sync run` as a child process (stderr to `<work>/<name>.log`); the caller
        waits for it (`wait_consumer`) or stops it. `command` runs another `profile-sync` (the
        benchmarks' baseline: an older commit's code)."""
        args = [*command, "run", "--config", str(config)]
        if exit_when_idle is not None:
            args += ["--exit-when-idle", repr(exit_when_idle)]
        log: IO[bytes] = (self.work / f"{name}.log").open("wb")
        self._stack.callback(log.close)
        # Each consumer its own state directory, as each pod has its own volume.
        child_env = {
            "PROFILE_SYNC_STATE_DIR": str(self.work / "state" / name),
            **(env or self.env()),
        }
        process = subprocess.Popen(args, env=child_env, stdout=subprocess.DEVNULL, stderr=log)
        self._stack.callback(_stop_process, process)
        return process

    def run_until_idle(
        self,
        config: Path,
        *,
        idle_s: float = 3.0,
        env: Mapping[str, str] | None = None,
        name: str = "run",
        timeout_s: float = 3600.0,
        check: bool = False,
    ) -> ConsumerExit:
        """`profile-sync run --exit-when-idle idle_s`, waited for; with `check`, a non-zero
        exit raises StepFailedError."""
        started = time.monotonic()
        process = self.start_consumer(config, exit_when_idle=idle_s, env=env, name=name)
        finished = wait_consumer(process, started, timeout_s)
        if check and finished.returncode != 0:
            stderr = (self.work / f"{name}.log").read_text(errors="replace")
            raise StepFailedError(name, finished.returncode, stderr)
        return finished

    # ------------------------------------------------------------------------- emulator admin

    def emulator_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = httpx.get(f"{self.emulator_url}/_emulator/stats", timeout=30).json()
        return stats

    def emulator_records(self, since_ms: int | None = None) -> list[dict[str, Any]]:
        params = {} if since_ms is None else {"since_ms": str(since_ms)}
        response = httpx.get(f"{self.emulator_url}/_emulator/records", params=params, timeout=120)
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]

    def set_faults(self, faults: Mapping[str, Any]) -> None:
        """Replace the emulator's fault set (`{}` clears it)."""
        httpx.post(
            f"{self.emulator_url}/_emulator/faults", json=dict(faults), timeout=10
        ).raise_for_status()

    def reset_emulator(self) -> None:
        """Clear data, stats and faults; provisioned resources (and so the config) stay."""
        httpx.post(f"{self.emulator_url}/_emulator/reset", json={}, timeout=30).raise_for_status()

    def account(self, topic: str | None = None, dlq_topic: str | None = None) -> Accounting:
        """Produced / delivered / dead-lettered / lost, from Kafka and the emulator."""
        return account(
            self.bootstrap, topic or self.topic, dlq_topic or self.dlq_topic, self.emulator_url
        )


def wait_consumer(
    process: subprocess.Popen[bytes], started: float, timeout_s: float = 3600.0
) -> ConsumerExit:
    """Wait for a `run` child and read its own resource usage (wait4: this child only)."""
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid == process.pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    return ConsumerExit(
        returncode=process.returncode,
        elapsed_s=time.monotonic() - started,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,
    )


def _stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop the process, then whatever is left of its process group (e.g. worker processes
    a terminated parent did not take down)."""
    _stop_process(process)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None or process.returncode is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
