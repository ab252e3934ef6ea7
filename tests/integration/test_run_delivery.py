"""Delivery scenarios, against the real broker and the emulator."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from consumer.aep.protocol import (
    BatchResult,
    InletSender,
    OutgoingRecord,
    Rejected,
    SendResult,
)
from consumer.commands.run import limits_from, run_consumer
from consumer.config.settings import DeliverySettings
from consumer.pipeline.record import SourceRecord
from devenv.accounting import account
from devenv.kafka_local import Broker
from tests.integration.run_support import (
    Coordinates,
    aep_target,
    check_final_state,
    committed_offsets,
    consumer_env,
    end_offsets,
    produce_sample,
    read_topic,
)
from tests.support.kafka import TopicFactory, Topics

PROFILE_SYNC = str(Path(sys.executable).with_name("profile-sync"))


def _set_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in [n for n in os.environ if n.startswith("PROFILE_SYNC_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


# With the native core (the default) the poison still reaches the dead-letter topic with the
# classes the Python steps give it: the core declines it and the Python steps refuse it.
@pytest.mark.parametrize("native_core", ["true", "false"])
def test_20000_events_with_2_percent_poison_on_6_partitions(
    kafka_broker: Broker,
    make_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
    native_core: str,
) -> None:
    topics = make_topics(partitions=6)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 20_000, 11, 0.02)
    assert len(produced.poison) > 200
    with aep_target() as target:
        env = consumer_env(kafka_broker.bootstrap, topics, target)
        env["PROFILE_SYNC_NATIVE_CORE"] = native_core
        _set_env(monkeypatch, env)
        started = time.monotonic()
        assert run_consumer(None, exit_when_idle=1.0) == 0
        elapsed = time.monotonic() - started
        check_final_state(
            kafka_broker.bootstrap, topics, env["PROFILE_SYNC_GROUP_ID"], target, produced
        )
        stats = target.stats()
    print(f"20k events: {elapsed:.1f} s, emulator {stats['requests']['by_status']}")


def test_sigkill_mid_stream_and_restart_loses_nothing(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=3)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 6000, 12, 0.02)
    with aep_target() as target:
        # Slow AEP down so that the kill lands while requests are in flight.
        target.faults({"latency_ms": 150})
        env = {**os.environ, **consumer_env(kafka_broker.bootstrap, topics, target)}
        env["PROFILE_SYNC_BATCH_MAX_RECORDS"] = "100"
        first = subprocess.Popen([PROFILE_SYNC, "run", "--exit-when-idle", "2"], env=env)
        try:
            deadline = time.monotonic() + 60
            while target.stats()["messages"]["accepted"] < 600:
                assert first.poll() is None, "the consumer ended before it was killed"
                assert time.monotonic() < deadline
                time.sleep(0.05)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert first.returncode == -signal.SIGKILL
        delivered_before = target.stats()["messages"]["accepted"]
        assert delivered_before < 6000
        target.faults({})
        second = subprocess.run(
            [PROFILE_SYNC, "run", "--exit-when-idle", "2"], env=env, timeout=120, check=False
        )
        assert second.returncode == 0
        check_final_state(
            kafka_broker.bootstrap,
            topics,
            env["PROFILE_SYNC_GROUP_ID"],
            target,
            produced,
            exactly_once=False,
        )


def test_wrong_credentials_exit_3_with_nothing_dead_lettered_or_committed(
    kafka_broker: Broker,
    make_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topics = make_topics(partitions=2)
    produce_sample(kafka_broker.bootstrap, topics.name, 200, 13, 0.1)
    with aep_target() as target:
        env = consumer_env(kafka_broker.bootstrap, topics, target)
        env["PROFILE_SYNC_AEP_CLIENT_SECRET"] = "not-the-secret"
        _set_env(monkeypatch, env)
        assert run_consumer(None, exit_when_idle=1.0) == 3
        assert "PROFILE_SYNC_AEP_CLIENT" in capsys.readouterr().err
        assert target.stats()["messages"]["received"] == 0
    assert topics.dlq is not None
    assert read_topic(kafka_broker.bootstrap, topics.dlq) == []
    committed = committed_offsets(
        kafka_broker.bootstrap, env["PROFILE_SYNC_GROUP_ID"], topics.name, 2
    )
    assert all(offset < 0 for offset in committed.values())


class RefusingSender:
    """AEP refusing chosen records inside its 207 (status 400, as for a value it rejects);
    the others go to the real inlet."""

    def __init__(self, inner: InletSender, refuse: set[Coordinates]) -> None:
        self._inner = inner
        self._refuse = refuse
        self.refused: list[Coordinates] = []

    async def send(self, records: Sequence[OutgoingRecord]) -> SendResult:
        def coords(r: OutgoingRecord) -> Coordinates:
            assert isinstance(r.key, SourceRecord)
            return r.key.coordinates

        passed = [r for r in records if coords(r) not in self._refuse]
        answer: SendResult = BatchResult([])
        if passed:
            answer = await self._inner.send(passed)
            if not isinstance(answer, BatchResult):
                return answer
        by_key = {id(o.key): o for o in answer.outcomes}
        outcomes: list[Any] = []
        for r in records:
            if coords(r) in self._refuse:
                self.refused.append(coords(r))
                detail = {"message": "The value [jane@example.com] is invalid", "xactionId": "x"}
                outcomes.append(Rejected(r.key, 400, detail))
            else:
                outcomes.append(by_key[id(r.key)])
        return BatchResult(outcomes)

    def request_size(self, records: Sequence[OutgoingRecord]) -> int:
        return self._inner.request_size(records)

    def envelope_overhead(self) -> int:
        return self._inner.envelope_overhead()


def test_refusals_inside_a_207_including_a_refused_superseder(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = make_topics(partitions=1)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 400, 14, 0.0)
    by_customer: dict[str, list[Coordinates]] = {}
    deleted = {e.key for e in produced.events.values() if e.record_type == "CustomerDeleted"}
    for coords, event in sorted(produced.events.items()):
        if event.key not in deleted:
            by_customer.setdefault(event.key, []).append(coords)
    many = [c for c, versions in by_customer.items() if len(versions) >= 3][:5]
    single = [c for c, versions in by_customer.items() if len(versions) == 1][:3]
    assert many, "the sample has no customer with three versions"
    # The newest version of `many` supersedes the others; the single ones supersede nothing.
    refuse = {by_customer[c][-1] for c in many} | {by_customer[c][0] for c in single}
    refusing: list[RefusingSender] = []

    def wrap(inner: InletSender) -> InletSender:
        refusing.append(RefusingSender(inner, refuse))
        return refusing[0]

    with aep_target() as target:
        # A long linger: every version of a customer is in the lanes before the first batch.
        env = consumer_env(
            kafka_broker.bootstrap, topics, target, PROFILE_SYNC_BATCH_LINGER_MS="1500"
        )
        _set_env(monkeypatch, env)
        assert run_consumer(None, exit_when_idle=1.0, wrap_sender=wrap) == 0
        assert sorted(refusing[0].refused) == sorted(refuse)
        check_final_state(
            kafka_broker.bootstrap,
            topics,
            env["PROFILE_SYNC_GROUP_ID"],
            target,
            produced,
            refused=dict.fromkeys(refuse, "deliver.aep_rejected"),
        )
        # The refused superseder's customers got the next newest version, and only that one:
        # the oldest versions were superseded, never sent.
        sent: dict[str, int] = {}
        for record in target.records():
            customer = str(record["entity"]["identityMap"]["CustomerId"][0]["id"])
            sent[customer] = sent.get(customer, 0) + 1
        for customer in many:
            assert sent.get(customer) == 1


def test_a_request_over_the_size_limit_is_split_and_delivered(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = make_topics(partitions=1)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 6000, 15, 0.0)
    with aep_target() as target:
        env = consumer_env(kafka_broker.bootstrap, topics, target)
        _set_env(monkeypatch, env)
        # Let the batcher build requests far over AEP's 1 MB: the inlet answers 413.
        oversized = dataclasses.replace(
            limits_from(DeliverySettings()),
            max_records=5000,
            linger_s=1.0,
            max_request_bytes=16 * 1024 * 1024,
        )
        assert run_consumer(None, exit_when_idle=1.0, limits=oversized) == 0
        assert target.stats()["requests"]["by_status"].get("413", 0) >= 1
        check_final_state(
            kafka_broker.bootstrap, topics, env["PROFILE_SYNC_GROUP_ID"], target, produced
        )


def _run_in_thread(stop: threading.Event, exit_when_idle: float | None = None) -> list[int]:
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(run_consumer(None, exit_when_idle, stop=stop)), daemon=True
    )
    thread.start()
    result_thread.append(thread)
    return result


result_thread: list[threading.Thread] = []


def test_polled_but_undelivered_records_are_never_committed_across_auto_commits(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = make_topics(partitions=1)
    produce_sample(kafka_broker.bootstrap, topics.name, 20, 16, 0.0)
    with aep_target() as target:
        env = consumer_env(
            kafka_broker.bootstrap,
            topics,
            target,
            PROFILE_SYNC_KAFKA_CONSUMER_CONFIG='{"auto.commit.interval.ms": 200}',
            PROFILE_SYNC_REVOKE_TIMEOUT_S="3",
        )
        group = env["PROFILE_SYNC_GROUP_ID"]
        _set_env(monkeypatch, env)
        assert run_consumer(None, exit_when_idle=1.0) == 0
        assert committed_offsets(kafka_broker.bootstrap, group, topics.name, 1) == {0: 20}

        # AEP down: the next records are polled and sent, never accepted.
        target.faults({"outage_s": 600})
        produce_sample(kafka_broker.bootstrap, topics.name, 20, 17, 0.0)
        stop = threading.Event()
        result = _run_in_thread(stop)
        deadline = time.monotonic() + 30
        while target.stats()["requests"]["by_status"].get("503", 0) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)  # several auto-commit intervals
        assert committed_offsets(kafka_broker.bootstrap, group, topics.name, 1) == {0: 20}
        stop.set()
        result_thread[-1].join(30)
        assert result == [0]
        assert committed_offsets(kafka_broker.bootstrap, group, topics.name, 1) == {0: 20}

        # AEP back: they are delivered and committed.
        target.faults({})
        assert run_consumer(None, exit_when_idle=1.0) == 0
        assert committed_offsets(kafka_broker.bootstrap, group, topics.name, 1) == {0: 40}


def test_a_restart_after_a_clean_stop_reprocesses_nothing(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = make_topics(partitions=2)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 500, 18, 0.05)
    with aep_target() as target:
        env = consumer_env(kafka_broker.bootstrap, topics, target)
        _set_env(monkeypatch, env)
        assert run_consumer(None, exit_when_idle=1.0) == 0
        received = target.stats()["messages"]["received"]
        assert topics.dlq is not None
        dead = len(read_topic(kafka_broker.bootstrap, topics.dlq))
        assert dead == len(produced.poison)
        assert run_consumer(None, exit_when_idle=1.0) == 0
        assert target.stats()["messages"]["received"] == received
        assert len(read_topic(kafka_broker.bootstrap, topics.dlq)) == dead
        check_final_state(
            kafka_broker.bootstrap, topics, env["PROFILE_SYNC_GROUP_ID"], target, produced
        )


def test_sigterm_mid_stream_commits_what_was_delivered_and_exits_0(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=2)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 3000, 19, 0.02)
    with aep_target() as target:
        target.faults({"latency_ms": 150})
        env = {**os.environ, **consumer_env(kafka_broker.bootstrap, topics, target)}
        env["PROFILE_SYNC_BATCH_MAX_RECORDS"] = "50"
        group = env["PROFILE_SYNC_GROUP_ID"]
        first = subprocess.Popen([PROFILE_SYNC, "run"], env=env)
        deadline = time.monotonic() + 60
        while target.stats()["messages"]["accepted"] < 300:
            assert first.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.05)
        first.send_signal(signal.SIGTERM)
        assert first.wait(50) == 0
        # Committed = W+1, W the last offset below which everything is accounted for, judged
        # from what the emulator and the dead-letter topic hold.
        assert topics.dlq is not None
        held = account(kafka_broker.bootstrap, topics.name, topics.dlq, target.url)
        ends = end_offsets(kafka_broker.bootstrap, topics.name, 2)
        expected = {
            p: min((o for _t, q, o in held.lost_coordinates if q == p), default=ends[p])
            for p in range(2)
        }
        committed = committed_offsets(kafka_broker.bootstrap, group, topics.name, 2)
        assert {p: max(o, 0) for p, o in committed.items()} == expected
        assert sum(expected.values()) > 0
        target.faults({})
        assert (
            subprocess.run(
                [PROFILE_SYNC, "run", "--exit-when-idle", "2"], env=env, timeout=120, check=False
            ).returncode
            == 0
        )
        # A dead letter past the committed watermark is written again after the restart.
        check_final_state(
            kafka_broker.bootstrap, topics, group, target, produced, exactly_once=False
        )


def test_a_missing_topic_exits_2_naming_its_variable(
    kafka_broker: Broker,
    make_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topics = make_topics(partitions=1, dlq=False)
    with aep_target() as target:
        env = consumer_env(
            kafka_broker.bootstrap,
            Topics(topics.name, f"{topics.name}.dlq", 1, topics.state),
            target,
        )
        _set_env(monkeypatch, env)
        assert run_consumer(None, exit_when_idle=1.0) == 2
        assert "PROFILE_SYNC_DLQ_TOPIC" in capsys.readouterr().err
        monkeypatch.setenv("PROFILE_SYNC_TOPIC", "no.such.topic")
        assert run_consumer(None, exit_when_idle=1.0) == 2
        assert "PROFILE_SYNC_TOPIC" in capsys.readouterr().err


def test_an_unknown_inlet_stops_with_exit_3_promptly_and_commits_nothing(
    kafka_broker: Broker,
    make_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topics = make_topics(partitions=2)
    produce_sample(kafka_broker.bootstrap, topics.name, 300, 20, 0.0)
    with aep_target() as target:
        env = consumer_env(
            kafka_broker.bootstrap,
            topics,
            target,
            PROFILE_SYNC_AEP_INLET_URL=f"{target.url}/collection/0000deadbeef",
        )
        _set_env(monkeypatch, env)
        started = time.monotonic()
        assert run_consumer(None, exit_when_idle=1.0) == 3
        assert time.monotonic() - started < 20  # no revoke wait for requests that failed
        assert "PROFILE_SYNC_AEP_INLET_URL" in capsys.readouterr().err
    committed = committed_offsets(
        kafka_broker.bootstrap, env["PROFILE_SYNC_GROUP_ID"], topics.name, 2
    )
    assert all(offset < 0 for offset in committed.values())
