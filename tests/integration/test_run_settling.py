"""Each record is settled as soon as AEP answers for it, against the real broker and emulator:
one customer gets a per-message 503 for ever while everything else flows. The other partitions
keep committing, and a revoke of partitions whose records were all answered is quick.

The emulator cannot refuse one customer's messages on its own, so the 503 comes from a wrapper
around the real sender (`ThrottlingSender`): it answers that customer's records with a
per-message 503 and hands every other record to the real sender, whose answers it passes on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from confluent_kafka import Consumer

from consumer.aep.protocol import BatchResult, InletSender, OutgoingRecord, RetryMessage, SendResult
from consumer.commands.run import run_consumer
from consumer.kafka import source as kafka_source
from consumer.pipeline.offsets import TopicPartitionKey
from consumer.pipeline.record import SourceRecord
from devenv.kafka_local import Broker
from tests.integration.resilience_support import set_env, start_consumer, wait_for
from tests.integration.run_support import (
    aep_target,
    check_final_state,
    committed_offsets,
    consumer_env,
    end_offsets,
    produce_sample,
)
from tests.support.kafka import TopicFactory

PARTITIONS = 4


class ThrottlingSender:
    """The real sender, except for one customer: a per-message 503 for ever."""

    def __init__(self, inner: InletSender, customer: int) -> None:
        self._inner = inner
        self._customer = customer
        self.throttled = 0

    async def send(self, records: Sequence[OutgoingRecord]) -> SendResult:
        mine = [r for r in records if _customer(r) == self._customer]
        rest = [r for r in records if _customer(r) != self._customer]
        self.throttled += len(mine)
        outcomes: list[Any] = [RetryMessage(r.key, 503, None) for r in mine]
        if not rest:
            return BatchResult(outcomes)
        answer = await self._inner.send(rest)
        if not isinstance(answer, BatchResult):
            return answer  # a whole-request answer (retry, split) applies to the whole batch
        return BatchResult(outcomes + list(answer.outcomes))

    def request_size(self, records: Sequence[OutgoingRecord]) -> int:
        return self._inner.request_size(records)

    def envelope_overhead(self) -> int:
        return self._inner.envelope_overhead()


def _customer(record: OutgoingRecord) -> int | None:
    assert isinstance(record.key, SourceRecord)
    return record.key.customer_id


@pytest.fixture
def release_times(monkeypatch: pytest.MonkeyPatch) -> list[tuple[set[int], float]]:
    """Every revoke's partitions and how long `KafkaSource.release` took for them."""
    seen: list[tuple[set[int], float]] = []
    original = kafka_source.KafkaSource.release

    def timed(
        self: kafka_source.KafkaSource, partitions: Sequence[TopicPartitionKey], commit: bool
    ) -> None:
        started = time.monotonic()
        original(self, partitions, commit)
        if commit and partitions:
            seen.append(({p for _, p in partitions}, time.monotonic() - started))

    monkeypatch.setattr(kafka_source.KafkaSource, "release", timed)
    return seen


def test_a_customer_refused_for_ever_holds_back_only_its_own_partition(
    kafka_broker: Broker,
    make_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
    release_times: list[tuple[set[int], float]],
) -> None:
    topics = make_topics(partitions=PARTITIONS)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 800, 23, 0.0)
    # The throttled customer: the one of the first event on the last partition, which the
    # sticky assignor keeps when a second member joins (it hands over the first ones).
    first = min(c for c in produced.events if c[1] == PARTITIONS - 1)
    customer = int(produced.events[first].key)
    throttled_partition = first[1]
    throttling: list[ThrottlingSender] = []

    def wrap(inner: InletSender) -> InletSender:
        throttling.append(ThrottlingSender(inner, customer))
        return throttling[-1]

    with aep_target() as target:
        env = consumer_env(
            kafka_broker.bootstrap,
            topics,
            target,
            PROFILE_SYNC_BATCH_MAX_RECORDS="50",
            PROFILE_SYNC_AEP_RETRY_BACKOFF_CAP_S="0.5",
            PROFILE_SYNC_REVOKE_TIMEOUT_S="5",
        )
        group = env["PROFILE_SYNC_GROUP_ID"]
        set_env(monkeypatch, env)
        running = start_consumer(wrap_sender=wrap)
        try:
            ends = end_offsets(kafka_broker.bootstrap, topics.name, PARTITIONS)
            others = [p for p in range(PARTITIONS) if p != throttled_partition]

            def others_committed() -> bool:
                committed = committed_offsets(
                    kafka_broker.bootstrap, group, topics.name, PARTITIONS
                )
                return all(committed.get(p) == ends[p] for p in others)

            # The other partitions commit to their end while the customer is refused.
            wait_for(others_committed, 90, "the other partitions to commit to their end")
            assert throttling[0].throttled >= 3  # it was retried, not dead-lettered
            committed = committed_offsets(kafka_broker.bootstrap, group, topics.name, PARTITIONS)
            assert committed.get(throttled_partition, 0) <= first[2]
            # A second member joins: the first revokes partitions. Those whose records were all
            # answered are released at once; repeat until a revoke left out the
            # throttled partition.
            for _ in range(4):
                if any(throttled_partition not in parts for parts, _ in release_times):
                    break
                _join_and_leave(kafka_broker.bootstrap, group, topics.name)
            quick = [
                (parts, took) for parts, took in release_times if throttled_partition not in parts
            ]
            assert quick, f"no revoke without partition {throttled_partition}: {release_times}"
            assert all(took < 1.0 for _, took in quick), quick
        finally:
            running.stop.set()
            running.wait(30)


def _join_and_leave(bootstrap: str, group: str, topic: str) -> None:
    """A plain member joins the group (taking partitions from the consumer) and leaves."""
    member = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "partition.assignment.strategy": "cooperative-sticky",
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
        }
    )
    member.subscribe([topic])
    deadline = time.monotonic() + 30
    while not member.assignment() and time.monotonic() < deadline:
        member.poll(0.2)
    time.sleep(1.0)
    member.close()
    time.sleep(2.0)  # the partitions go back to the consumer


def test_a_backlog_waiting_for_the_dataflow_ready_at_is_delivered_after_it(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many batches wait for ready_at at once (20 records each): every one of them goes after it.
    topics = make_topics(partitions=3)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 600, 24, 0.0)
    with aep_target() as target:
        ready_at = datetime.now(UTC) + timedelta(seconds=3)
        env = consumer_env(
            kafka_broker.bootstrap,
            topics,
            target,
            PROFILE_SYNC_BATCH_MAX_RECORDS="20",
            PROFILE_SYNC_AEP_READY_AT=ready_at.isoformat(),
        )
        set_env(monkeypatch, env)
        assert run_consumer(None, exit_when_idle=1.0) == 0
        check_final_state(
            kafka_broker.bootstrap, topics, env["PROFILE_SYNC_GROUP_ID"], target, produced
        )
        received = [r["receivedTimeMs"] for r in target.records()]
        assert min(received) >= ready_at.timestamp() * 1000
