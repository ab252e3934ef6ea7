"""State figures of the stale-update guard (docs/DESIGN.md §9, §11).

- memory: 1,000,000 distinct customers pass through one partition's store (the guard's look-up,
  then the mark written on acceptance); RSS is sampled every 100,000 customers. Flat means that
  once RocksDB's bounded write buffers and block cache have filled, RSS stops following the
  number of customers; the same marks in a Python dict are measured beside it.
- restore rate: the same number of marks are produced to one partition of a compacted changelog
  topic on a real broker (devenv), then read back into an empty state directory; records/s.

Usage: python bench/state_bench.py [--customers 1000000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # no stubs in the dev set
from confluent_kafka import Consumer, Producer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consumer.config.settings import KafkaSettings
from consumer.kafka.properties import dead_letter_producer_config
from consumer.kafka.restore import ChangelogRestorer, restore_consumer_config
from consumer.observability.metrics import Metrics
from consumer.pipeline.state.mark import customer_key, encode_mark, is_stale
from consumer.pipeline.state.store import CACHE_BYTES, StateStores
from consumer.provisioning.topics import STATE_TOPIC_CONFIG
from devenv import kafka_local

SAMPLE_EVERY = 100_000
MB = 1024 * 1024


@dataclass(frozen=True)
class MemoryFigure:
    customers: int
    rss_mb: list[tuple[int, float]]  # (customers so far, RSS MB)
    us_per_customer: float
    dict_mb: float

    @property
    def growth_mb(self) -> float:
        """RSS growth over the second half of the customers: by then RocksDB's write buffers
        and block cache (bounded, whatever the number of customers) have filled."""
        half = self.customers // 2
        middle = min(self.rss_mb, key=lambda sample: abs(sample[0] - half))
        return self.rss_mb[-1][1] - middle[1]


@dataclass(frozen=True)
class RestoreFigure:
    records: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def _rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / MB


def store_memory(work: Path, customers: int) -> MemoryFigure:
    stores = StateStores(work, "bench.state")
    store = stores.open(0)
    samples: list[tuple[int, float]] = [(0, _rss_mb())]
    started = time.perf_counter()
    for customer in range(customers):
        key = (customer, customer, customer)
        if not is_stale(key, store.get(customer)):
            store.put(customer, key)
        if (customer + 1) % SAMPLE_EVERY == 0:
            samples.append((customer + 1, _rss_mb()))
    elapsed = time.perf_counter() - started
    stores.close_all()
    return MemoryFigure(customers, samples, elapsed / customers * 1e6, dict_memory(customers))


def dict_memory(customers: int) -> float:
    """RSS growth (MB) of the same marks in a Python dict, as the lanes' in-memory map held
    them before the store: what "grows with the number of customers" looks like."""
    before = _rss_mb()
    marks = {customer: (customer, customer, customer) for customer in range(customers)}
    grown = _rss_mb() - before
    del marks
    return grown


def produce_marks(bootstrap: str, topic: str, count: int) -> None:
    settings = KafkaSettings(kafka_bootstrap_servers=bootstrap)
    config = {**dead_letter_producer_config(settings), "linger.ms": "50"}
    producer = Producer(config)
    for customer in range(count):
        while True:
            try:
                producer.produce(
                    topic,
                    key=customer_key(customer),
                    value=encode_mark((customer, customer, customer)),
                    partition=0,
                )
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(120)


def restore_rate(work: Path, bootstrap: str, topic: str) -> RestoreFigure:
    settings = KafkaSettings(kafka_bootstrap_servers=bootstrap, state_topic=topic)
    stores = StateStores(work, topic)
    restorer = ChangelogRestorer(
        Consumer(restore_consumer_config(settings)), topic, stores, Metrics()
    )
    started = time.perf_counter()
    [result] = restorer.restore([0], timeout_s=600)
    elapsed = time.perf_counter() - started
    restorer.close()
    stores.close_all()
    return RestoreFigure(result.records, elapsed)


def measure(work: Path, bootstrap: str, customers: int) -> tuple[MemoryFigure, RestoreFigure]:
    memory = store_memory(work / "memory", customers)
    topic = f"bench.state.{int(time.time())}"
    kafka_local.create_topics(bootstrap, {topic: 1}, STATE_TOPIC_CONFIG)
    produce_marks(bootstrap, topic, customers)
    return memory, restore_rate(work / "restore", bootstrap, topic)


def report(memory: MemoryFigure, restore: RestoreFigure) -> list[str]:
    curve = ", ".join(f"{n // 1000}k: {mb:.0f} MB" for n, mb in memory.rss_mb)
    return [
        f"store, {memory.customers:,} distinct customers: RSS {curve}",
        f"store RSS growth over the second half: {memory.growth_mb:+.1f} MB; bound: "
        f"{CACHE_BYTES // MB} MB of cache (memtables charged to it) plus "
        f"bloom filters (look-up + mark write {memory.us_per_customer:.1f} us per customer)",
        f"for comparison, the same marks in a Python dict: {memory.dict_mb:+.0f} MB",
        f"restore: {restore.records:,} marks in {restore.seconds:.1f} s = "
        f"{restore.per_s:,.0f} records/s",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="state-bench-") as work:
        kafka_local.ensure_jars()
        broker = kafka_local.start_broker(
            Path(work) / "kafka",
            kafka_local.free_port(),
            kafka_local.free_port(),
            {"auto.create.topics.enable": "false"},
        )
        try:
            memory, restore = measure(Path(work), broker.bootstrap, args.customers)
        finally:
            broker.stop()
    for line in report(memory, restore):
        print(line)


if __name__ == "__main__":
    main()
