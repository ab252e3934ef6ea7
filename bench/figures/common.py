"""What every figure shares: its result row, the run's context, and measuring helpers.

A figure is a function `measure(ctx) -> Figure`. Figures that need the consumer's maximum rate
(latency, outage, headroom) take it from `ctx.saturation()`, measured once per run.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil  # type: ignore[import-untyped]  # no stubs in the dev set
from confluent_kafka import Consumer, TopicPartition

from devenv.stack import NO_RATE_LIMITS, LocalStack

if TYPE_CHECKING:
    from bench.figures.saturation import Saturation


@dataclass
class Figure:
    """One row of the table: the measured value against its target."""

    name: str
    measured: str
    target: str
    met: bool | None  # None: not measured (an error, or a part missing)
    details: list[str] = field(default_factory=list)
    baseline: str = ""  # the same figure measured with the baseline's consumer, same run


@dataclass
class Topics:
    topic: str
    dlq_topic: str
    group_id: str


class Context:
    """The stack, the consumer's config file, the run's mode and results shared by figures."""

    def __init__(
        self, stack: LocalStack, config: Path, *, quick: bool, code: Path | None = None
    ) -> None:
        self.stack = stack
        self.config = config
        self.quick = quick
        # The consumer's code: this checkout (None) or another one (a baseline commit's
        # `git worktree`), run with this checkout's interpreter and dependencies.
        self.code = code
        self._saturation: Saturation | None = None

    def for_code(self, code: Path | None) -> Context:
        """The same stack and config, the consumer run from `code`; results not shared."""
        return Context(self.stack, self.config, quick=self.quick, code=code)

    def start_consumer(
        self, env: Mapping[str, str], name: str, exit_when_idle: float | None = None
    ) -> subprocess.Popen[bytes]:
        if self.code is None:
            return self.stack.start_consumer(
                self.config, exit_when_idle=exit_when_idle, env=env, name=name
            )
        # The baseline's packages come first on the path (the editable install's finder
        # comes after the path entries).
        env = {**env, "PYTHONPATH": str(self.code)}
        command = (sys.executable, "-P", "-c", "from consumer.cli import main; main()")
        return self.stack.start_consumer(
            self.config, exit_when_idle=exit_when_idle, env=env, name=name, command=command
        )

    def seconds(self, full: float, quick: float) -> float:
        return quick if self.quick else full

    def saturation(self) -> Saturation:
        if self._saturation is None:
            from bench.figures.saturation import measure_saturation

            self._saturation = measure_saturation(self)
        return self._saturation

    def fresh_topics(self, prefix: str, partitions: int) -> Topics:
        """A new topic pair and consumer group, so one figure never sees another's records."""
        suffix = uuid.uuid4().hex[:8]
        topics = Topics(f"bench.{prefix}.{suffix}", f"bench.{prefix}.{suffix}.dlq", f"g-{suffix}")
        self.stack.create_topics(topics.topic, topics.dlq_topic, partitions, topics.group_id)
        return topics

    def consumer_env(self, topics: Topics, **settings: object) -> dict[str, str]:
        """A consumer on these topics with AEP's rate limits out of the way."""
        return {
            **self.stack.env(
                topic=topics.topic, dlq_topic=topics.dlq_topic, group_id=topics.group_id, **settings
            ),
            **NO_RATE_LIMITS,
        }


class Sampler:
    """Samples `probe()` every `interval_s` on a thread, with monotonic timestamps."""

    def __init__(self, probe: Callable[[], Mapping[str, float]], interval_s: float) -> None:
        self._probe = probe
        self._interval = interval_s
        self._stop = threading.Event()
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic(), dict(self._probe())))
            except (psutil.Error, OSError):
                pass  # the process ended between two samples: keep what was seen
            except Exception:  # an HTTP hiccup of the emulator: skip one sample
                pass
            self._stop.wait(self._interval)

    def series(self, key: str) -> tuple[list[float], list[float]]:
        times = [t for t, s in self.samples if key in s]
        values = [s[key] for _, s in self.samples if key in s]
        return times, values

    def change(self, key: str, t_lo: float, t_hi: float) -> float:
        """How much a counter (CPU seconds, say) grew between t_lo and t_hi; 0 when it was
        sampled fewer than twice (no such threads, or a process gone at once)."""
        times, values = self.series(key)
        if len(values) < 2:
            return 0.0
        return value_at(times, values, t_hi) - value_at(times, values, t_lo)


def process_cpu_s(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def process_rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


# A process's threads by what runs them: the main thread (the consumer's poll thread), the
# librdkafka threads (named `rdk:*`), RocksDB's background threads (`rocksdb:*`), gRPC's core
# threads (the OTLP gRPC exporters': `event_engine`, `grpc_global_tim`, `lifeguard`), and the
# other Python threads (the HTTP loop, the health server, telemetry readers and processors).
THREAD_KINDS = ("poll", "librdkafka", "rocksdb", "grpc", "python")
_GRPC_THREADS = frozenset({"event_engine", "grpc_global_tim", "lifeguard"})


def thread_cpu_s(pid: int) -> dict[str, float]:
    """CPU seconds of the process's live threads, summed per kind (`THREAD_KINDS`)."""
    totals = dict.fromkeys(THREAD_KINDS, 0.0)
    for thread in psutil.Process(pid).threads():
        try:
            name = Path(f"/proc/{pid}/task/{thread.id}/comm").read_text().strip()
        except OSError:
            continue  # ended between the listing and the read
        if thread.id == pid:
            kind = "poll"
        elif name.startswith("rdk:"):
            kind = "librdkafka"
        elif name.startswith("rocksdb"):
            kind = "rocksdb"
        elif name in _GRPC_THREADS or name.startswith("grpc"):
            kind = "grpc"
        else:
            kind = "python"
        totals[kind] += thread.user_time + thread.system_time
    return totals


def vm_hwm_mb(pid: int) -> float:
    """The process's own peak resident set (`VmHWM`), in MiB: what the memory targets are
    about. `wait4`'s figure would be the forking parent's peak, not the child's."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise OSError("no VmHWM line")


def time_at_fraction(times: list[float], values: list[float], fraction: float) -> float:
    """First time the (non-decreasing) series reaches `fraction` of its final value,
    interpolated linearly between samples."""
    goal = values[-1] * fraction
    i = bisect.bisect_left(values, goal)
    if i == 0:
        return times[0]
    t0, t1, v0, v1 = times[i - 1], times[i], values[i - 1], values[i]
    return t0 if v1 == v0 else t0 + (t1 - t0) * (goal - v0) / (v1 - v0)


def value_at(times: list[float], values: list[float], when: float) -> float:
    """The series at `when`, interpolated linearly between samples."""
    i = bisect.bisect_left(times, when)
    if i == 0:
        return values[0]
    if i >= len(times):
        return values[-1]
    t0, t1, v0, v1 = times[i - 1], times[i], values[i - 1], values[i]
    return v0 + (v1 - v0) * (when - t0) / (t1 - t0)


def group_lag(bootstrap: str, group_id: str, topic: str) -> int:
    """Records of the topic past the group's committed offsets (what is left to account for)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        lag = 0
        committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        for tp in committed:
            _, high = consumer.get_watermark_offsets(tp, timeout=10)
            lag += high - max(tp.offset, 0) if tp.offset >= 0 else high
        return lag
    finally:
        consumer.close()


def wait_for_lag_zero(
    bootstrap: str, group_id: str, topic: str, timeout_s: float, alive: Callable[[], bool]
) -> bool:
    """True once the group has committed everything; False on timeout or when `alive` fails."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        if group_lag(bootstrap, group_id, topic) == 0:
            return True
        time.sleep(1.0)
    return False


def cores() -> int:
    return os.cpu_count() or 1


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process and its current children (workers may start late)."""
    root = psutil.Process(pid)
    total = process_cpu_s(pid)
    for child in root.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += process_cpu_s(child.pid)
    return total


def stats_probe(
    ctx: Context,
    pids: list[int],
    trees: Mapping[str, int] | None = None,
    *,
    by_thread: bool = False,
) -> Callable[[], dict[str, float]]:
    """Emulator message counters, the consumers' CPU seconds and RSS (`cpu.<pid>`,
    `rss.<pid>`), the CPU seconds of whole process trees (`cpu.<name>`) and, `by_thread`, of
    each consumer's threads per kind (`threads.<pid>.<kind>`)."""

    def probe() -> dict[str, float]:
        sample: dict[str, float] = {}
        if by_thread:
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    for kind, seconds in thread_cpu_s(pid).items():
                        sample[f"threads.{pid}.{kind}"] = seconds
        for name, root in (trees or {}).items():
            with contextlib.suppress(psutil.Error):
                sample[f"cpu.{name}"] = tree_cpu_s(root)
        for pid in pids:
            try:
                sample[f"cpu.{pid}"] = process_cpu_s(pid)
                sample[f"rss.{pid}"] = process_rss_mb(pid)
            except psutil.Error:
                continue
        messages: dict[str, Any] = ctx.stack.emulator_stats()["messages"]
        sample["received"] = float(messages["received"])
        sample["accepted"] = float(messages["accepted"])
        return sample

    return probe


def assigned_members(bootstrap: str, group_id: str) -> int:
    """Members of a stable group that hold at least one partition (0 while it rebalances)."""
    from confluent_kafka import ConsumerGroupState
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    description = admin.describe_consumer_groups([group_id])[group_id].result(timeout=10)
    if description.state != ConsumerGroupState.STABLE:
        return 0
    return sum(1 for m in description.members if m.assignment.topic_partitions)


def wait_group_stable(
    bootstrap: str, group_id: str, members: int, timeout_s: float, alive: Callable[[], bool]
) -> float | None:
    """The monotonic time at which `members` members held partitions; None if never."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        try:
            if assigned_members(bootstrap, group_id) >= members:
                return time.monotonic()
        except Exception:  # the group does not exist yet
            pass
        time.sleep(0.2)
    return None


def wait_first_delivery(ctx: Context, timeout_s: float, alive: Callable[[], bool]) -> bool:
    """True once the emulator has received a message (the consumer is up and delivering)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        if ctx.stack.emulator_stats()["messages"]["received"] > 0:
            return True
        time.sleep(0.2)
    return False
