"""Delivery pipeline figures (docs/DESIGN.md §9): records per AEP request at saturation, consumer
CPU per delivered record, and the end-to-end rate against the same process's offline rate.

One run: a real Kafka broker (devenv), the AEP emulator in its own process (rate limits off,
validation on), EVENTS sample events produced first (a backlog: the consumer is saturated), then
`profile-sync run` in this process until idle, rate limits off.

- offline rate: decode + map + validate + serialise of the same records in a loop, this process;
- end-to-end rate: records / (last AEP answer - first record polled);
- records per request: the emulator's accepted messages / batch requests;
- CPU per record: getrusage(RUSAGE_SELF) of the consumer run / records accepted by AEP;
- CPU while draining: this process's CPU time between the answers that took the records sent to
  10 % and to 90 % of all sent, per source record (start-up and the idle wait left out, as the
  cost figure of `run_all.py` leaves them out).

`--precomputed` measures the floor under the per-record core: every record's outcome of decode,
map, validate and serialise is computed before the consumer starts, and `run` gets a table of
them in place of the native core (`Precomputed`). What the consumer then spends is the rest of
the pipeline: Kafka, the stale-update guard and its marks, lanes, batching, HTTP, accounting. It
is what a native core would leave, less that core's own cost.

Usage: python bench/pipeline_bench.py [--events 50000] [--partitions 6] [--precomputed]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
from confluent_kafka import Producer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aep_emulator.options import EmulatorOptions
from aep_emulator.server import running_emulator
from bench.emulator_bench import ORG, provision
from consumer.aep.protocol import InletSender, OutgoingRecord, SendResult
from consumer.commands import run as run_command
from consumer.commands.run import run_consumer
from consumer.config.mapper_options import options_from_settings
from consumer.config.settings import DeliverySettings, XdmSettings
from consumer.pipeline.native_core import native_core
from consumer.pipeline.record import SourceRecord
from consumer.pipeline.steps.native_core import Transformed
from devenv import kafka_local
from devenv.sample_events import generate_events
from mappers.mapper import Mapper
from mappers.results import Delete, MapFailure, Upsert
from schemas.avro import DecodeError, EventDecoder, EventEncoder, WriterSchemaRegistry
from schemas.limits import RECORD_LIMIT
from schemas.xdm import compile_validator

TOPIC = "bench.customer"
DLQ = "bench.customer.dlq"
STATE = "bench.state"


class TimingSender:
    """Wraps the real sender: when the first record was polled, when the last answer came, and
    this process's CPU time at each answer with the records sent so far."""

    def __init__(self, inner: InletSender) -> None:
        self._inner = inner
        self.first_polled: float | None = None
        self.last_answer = 0.0
        self.answers: list[tuple[float, int]] = []
        self._sent = 0

    async def send(self, records: Sequence[OutgoingRecord]) -> SendResult:
        for r in records:
            assert isinstance(r.key, SourceRecord)
            if self.first_polled is None or r.key.polled_at < self.first_polled:
                self.first_polled = r.key.polled_at
        answer = await self._inner.send(records)
        self.last_answer = time.monotonic()
        self._sent += len(records)
        self.answers.append((time.process_time(), self._sent))
        return answer

    def draining_cpu(self, source_records: int) -> float:
        """CPU seconds per source record between the answers at 10 % and 90 % of the records
        sent. A batch sends only each customer's newest record, so the records sent in the
        window are scaled by source records / records sent over the whole run."""
        total = self._sent
        low = next(a for a in self.answers if a[1] >= 0.1 * total)
        high = next(a for a in self.answers if a[1] >= 0.9 * total)
        sent = high[1] - low[1]
        return (high[0] - low[0]) / (sent * source_records / total)

    def request_size(self, records: Sequence[OutgoingRecord]) -> int:
        return self._inner.request_size(records)

    def envelope_overhead(self) -> int:
        return self._inner.envelope_overhead()


def produce(bootstrap: str, events: int) -> list[bytes]:
    encoder = EventEncoder(WriterSchemaRegistry.load(None))
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "acks": "all"})
    values = []
    for event in generate_events(events, 3, 0.0):
        value = event.value(encoder.encode_single_object)
        values.append(value)
        while True:
            try:
                producer.produce(TOPIC, value=value, key=event.key.encode())
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(120)
    return values


class PythonSteps:
    """decode + map + validate + serialise as `profile-sync run`'s Python steps do them."""

    def __init__(self) -> None:
        # Decoded as `profile-sync run` decodes them.
        self.decoder = EventDecoder(WriterSchemaRegistry.load(None), timestamps_as_millis=True)
        self.options = options_from_settings(XdmSettings(), None)
        self.mapper = Mapper(self.options)
        self.validator = compile_validator(self.options.xdm)

    def outcome(self, value: bytes) -> Transformed | None:
        """What the steps make of the value, as the native core answers; None when a step
        refuses it."""
        try:
            event = self.decoder.decode(value)
        except DecodeError:
            return None
        result = self.mapper.map_decoded(event.record_type, event.datum)
        if isinstance(result, MapFailure):
            return None
        if isinstance(result, Upsert) and self.validator.validate(result.record):
            return None
        entity = orjson.dumps(result.record)
        if len(entity) > RECORD_LIMIT:
            return None
        primary, secondary = result.event_order
        deleted = isinstance(result, Delete)
        notes = result.notes if isinstance(result, Upsert) else ()
        return (event.record_type, result.customer_id, deleted, primary, secondary, entity, notes)


def offline_rate(values: list[bytes]) -> tuple[float, float]:
    """decode + map + validate + serialise, the same records, one loop: (records/s wall,
    CPU seconds per record; the CPU figure holds on a busy machine, the wall one does not).

    As `profile-sync run` does them: with the native core on (`PROFILE_SYNC_NATIVE_CORE`, the
    default), the core reads what it can and the Python steps read the rest."""
    steps = PythonSteps()
    core = native_core(steps.options, enabled=DeliverySettings().native_core, own_schemas=False)
    started = time.perf_counter()
    cpu_started = time.process_time()
    for value in values:
        if core is not None:
            transformed = core.transform(value)
            if transformed is not None and len(transformed[5]) <= RECORD_LIMIT:
                continue
        steps.outcome(value)
    cpu = time.process_time() - cpu_started
    return len(values) / (time.perf_counter() - started), cpu / len(values)


class Precomputed:
    """A core that answers from a table of the Python steps' outcomes, made before the run: the
    pipeline's first step is the real `NativeCoreStep`, and a value not in the table (one a
    step refuses) takes the Python steps."""

    def __init__(self, values: list[bytes]) -> None:
        steps = PythonSteps()
        self.table: dict[bytes, Transformed] = {}
        for value in values:
            outcome = steps.outcome(value)
            if outcome is not None:
                self.table[value] = outcome

    def transform(self, value: bytes) -> Transformed | None:
        return self.table.get(value)

    def install(self) -> None:
        """`run` (in this process) gets this table where it would build the native core."""
        # setattr: mypy refuses a lambda in place of the module's typed function.
        setattr(run_command, "native_core", lambda *_args, **_kwargs: self)  # noqa: B010


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument(
        "--precomputed",
        action="store_true",
        help="decode, map, validate and serialise before the run (the floor under that core)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as work:
        kafka_local.ensure_jars()
        broker = kafka_local.start_broker(
            Path(work) / "kafka",
            kafka_local.free_port(),
            kafka_local.free_port(),
            {"auto.create.topics.enable": "false"},
        )
        try:
            kafka_local.create_topics(
                broker.bootstrap,
                # The replay topic `run` reads beside the source (`{topic}.replay`).
                {TOPIC: args.partitions, DLQ: args.partitions, f"{TOPIC}.replay": args.partitions},
            )
            # The stale-update guard's changelog, as `profile-sync init` creates it.
            kafka_local.create_topics(
                broker.bootstrap, {STATE: args.partitions}, {"cleanup.policy": "compact"}
            )
            options = EmulatorOptions(port=0, max_requests_per_s=0, max_messages_per_s=0)
            with running_emulator(options, subprocess=True) as emulator:
                ids = provision(emulator.url)
                values = produce(broker.bootstrap, args.events)
                offline, offline_cpu = offline_rate(values)
                if args.precomputed:
                    precomputed = Precomputed(values)
                    precomputed.install()
                    print(f"precomputed: {len(precomputed.table):,} of {len(values):,} records")
                env = {
                    "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
                    "PROFILE_SYNC_TOPIC": TOPIC,
                    "PROFILE_SYNC_DLQ_TOPIC": DLQ,
                    "PROFILE_SYNC_GROUP_ID": "bench",
                    "PROFILE_SYNC_STATE_TOPIC": STATE,
                    "PROFILE_SYNC_STATE_DIR": str(Path(work) / "state"),
                    "PROFILE_SYNC_AEP_IMS_URL": emulator.url,
                    "PROFILE_SYNC_AEP_PLATFORM_URL": emulator.url,
                    "PROFILE_SYNC_AEP_CLIENT_ID": "bench",
                    "PROFILE_SYNC_AEP_CLIENT_SECRET": "bench",
                    "PROFILE_SYNC_AEP_ORG_ID": ORG,
                    "PROFILE_SYNC_AEP_INLET_URL": ids["inlet_url"],
                    "PROFILE_SYNC_AEP_SCHEMA_ID": ids["schema_id"],
                    "PROFILE_SYNC_AEP_DATASET_ID": ids["dataset_id"],
                    "PROFILE_SYNC_AEP_FLOW_ID": ids["flow_id"],
                    "PROFILE_SYNC_AEP_MAX_REQUESTS_PER_S": "1000000",
                    "PROFILE_SYNC_AEP_MAX_RECORDS_PER_S": "100000000",
                    "PROFILE_SYNC_LOG_LEVEL": "WARNING",
                    "PROFILE_SYNC_HEALTH_PORT": "0",
                }
                os.environ.update(env)
                timing: list[TimingSender] = []

                def wrap(inner: InletSender) -> InletSender:
                    timing.append(TimingSender(inner))
                    return timing[0]

                before = resource.getrusage(resource.RUSAGE_SELF)
                code = run_consumer(None, exit_when_idle=2.0, wrap_sender=wrap)
                after = resource.getrusage(resource.RUSAGE_SELF)
                stats: dict[str, Any] = httpx.get(
                    f"{emulator.url}/_emulator/stats", timeout=30
                ).json()
        finally:
            broker.stop()

    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    accepted = stats["messages"]["accepted"]
    batch_requests = sum(
        n for route, n in stats["requests"]["by_route"].items() if "batch" in route
    )
    sender = timing[0]
    assert sender.first_polled is not None
    span = sender.last_answer - sender.first_polled
    end_to_end = args.events / span
    print(f"cores: {os.cpu_count()}, events: {args.events}, partitions: {args.partitions}")
    print(f"run exit code: {code}")
    print(f"offline rate (decode+map+validate+serialise): {offline:,.0f} records/s")
    print(f"end-to-end rate: {end_to_end:,.0f} records/s over {span:.1f} s")
    print(f"pipeline efficiency: {end_to_end / offline:.0%} (target >= 85%)")
    print(f"records per AEP request at saturation: {accepted / max(batch_requests, 1):.0f} "
          f"({accepted} accepted / {batch_requests} batch requests; target >= 400)")  # fmt: skip
    print(f"CPU per record: offline {offline_cpu * 1e6:.0f} us, consumer "
          f"{cpu / args.events * 1e6:.0f} us per polled record; CPU efficiency "
          f"{offline_cpu * args.events / cpu:.0%}")  # fmt: skip
    floor = " (decode, map, validate, serialise precomputed)" if args.precomputed else ""
    print(f"consumer CPU while draining (10-90 % of the records sent): "
          f"{sender.draining_cpu(args.events) * 1e6:.0f} us per source record{floor}")  # fmt: skip
    print(f"consumer CPU per delivered record: {cpu / max(accepted, 1) * 1e6:.0f} us "
          f"({cpu:.1f} s / {accepted}; target <= 45 us)")  # fmt: skip


if __name__ == "__main__":
    main()
