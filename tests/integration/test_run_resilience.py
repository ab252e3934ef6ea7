"""Issue 9's resilience scenarios against the real broker and the emulator: failing and
throttling AEP, an outage longer than max.poll.interval.ms, a member joining and leaving, SIGTERM
under faults, and the dead-letter guard. Each checks the final state: nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from consumer.observability import metric_names as names
from devenv.accounting import account
from devenv.kafka_local import Broker
from tests.integration.resilience_support import (
    group_members,
    merged,
    set_env,
    start_consumer,
    wait_for,
)
from tests.integration.run_support import (
    aep_target,
    check_final_state,
    committed_offsets,
    consumer_env,
    end_offsets,
    produce_sample,
    read_dead_letters,
)
from tests.support.kafka import TopicFactory

PROFILE_SYNC = str(Path(sys.executable).with_name("profile-sync"))


def _kafka_consumer_config(**extra: int) -> str:
    config = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500, **extra}
    return orjson.dumps(config).decode()


def test_failing_and_throttling_aep_loses_and_dead_letters_nothing_transient(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = make_topics(partitions=3)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 2000, 31, 0.02)
    with aep_target() as target:
        mixed = {"error_rate": 0.3, "statuses": [429, 500, 502, 503, 504]}
        target.faults(mixed)
        env = consumer_env(
            kafka_broker.bootstrap,
            topics,
            target,
            PROFILE_SYNC_BATCH_MAX_RECORDS="20",
            PROFILE_SYNC_AEP_RETRY_BACKOFF_CAP_S="1",
            PROFILE_SYNC_AEP_MAX_RETRIES_PER_S="50",
        )
        set_env(monkeypatch, env)
        consumer = start_consumer(exit_when_idle=1.5)
        wait_for(lambda: target.stats()["messages"]["accepted"] >= 400, 60, "first deliveries")
        # A 429 storm with Retry-After, then back to the mix.
        target.faults({"error_rate": 0.9, "statuses": [429], "retry_after_s": 1})
        time.sleep(2.0)
        target.faults(mixed)
        assert consumer.wait(120) == 0
        by_status = target.stats()["requests"]["by_status"]
        assert by_status.get("429", 0) >= 5
        assert sum(by_status.get(s, 0) for s in ("500", "502", "503", "504")) >= 3
        assert consumer.metrics.total(names.REQUEST_RETRIES) >= 10
        # Only the poison is dead-lettered: exactly once, and nothing for a transient error.
        check_final_state(
            kafka_broker.bootstrap, topics, env["PROFILE_SYNC_GROUP_ID"], target, produced
        )


def test_an_outage_longer_than_max_poll_interval_keeps_the_member_and_bounds_the_buffer(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Shortened from the 30 s / 10 s: a 20 s outage against max.poll.interval.ms of
    # 7 s (6 s is the broker's smallest session timeout, which the interval may not go below).
    outage_s = 20
    topics = make_topics(partitions=3)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 3000, 32, 0.02)
    max_buffered = 400
    with aep_target() as target:
        target.faults({"latency_ms": 20})
        env = consumer_env(
            kafka_broker.bootstrap,
            topics,
            target,
            PROFILE_SYNC_KAFKA_CONSUMER_CONFIG=_kafka_consumer_config(
                **{"max.poll.interval.ms": 7000}
            ),
            PROFILE_SYNC_BATCH_MAX_RECORDS="50",
            PROFILE_SYNC_MAX_BUFFERED_RECORDS=str(max_buffered),
            PROFILE_SYNC_AEP_REQUEST_TIMEOUT_S="2",
            PROFILE_SYNC_REVOKE_TIMEOUT_S="5",
            PROFILE_SYNC_AEP_RETRY_BACKOFF_CAP_S="2",
        )
        group = env["PROFILE_SYNC_GROUP_ID"]
        set_env(monkeypatch, env)
        consumer = start_consumer(exit_when_idle=2.0)
        wait_for(lambda: target.stats()["messages"]["accepted"] >= 300, 60, "first deliveries")
        members = group_members(kafka_broker.bootstrap, group)
        assert len(members) == 1
        target.faults({"outage_s": outage_s})
        time.sleep(2.0)  # requests that arrived before it are answered
        accepted_in_outage = target.stats()["messages"]["accepted"]
        time.sleep(outage_s * 0.75 - 2.0)
        # Deep into the outage: the same member, nothing more accepted, the circuit open.
        assert group_members(kafka_broker.bootstrap, group) == members
        assert target.stats()["messages"]["accepted"] == accepted_in_outage
        assert accepted_in_outage < len(produced)
        assert consumer.metrics.total(names.BREAKER_OPENED) >= 1
        # Paused while the sender backs off for them (all of them once the buffer is full).
        assert consumer.metrics.total(names.PARTITIONS_PAUSED) >= 1
        assert consumer.wait(120) == 0
        assert consumer.metrics.rebalances("assigned") == 1
        assert consumer.metrics.rebalances("lost") == 0
        assert consumer.metrics.rebalances("revoked") == 1  # the clean stop only
        peak = consumer.metrics.peak(names.RECORDS_BUFFERED)
        assert 0 < peak <= max_buffered
        assert target.stats()["requests"]["by_status"].get("503", 0) >= 3
        check_final_state(kafka_broker.bootstrap, topics, group, target, produced)


def test_a_second_member_joining_and_leaving_mid_stream_loses_and_rolls_back_nothing(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = make_topics(partitions=4)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 4000, 33, 0.02)
    with aep_target() as target:
        target.faults({"latency_ms": 60})
        env = consumer_env(
            kafka_broker.bootstrap,
            topics,
            target,
            PROFILE_SYNC_KAFKA_CONSUMER_CONFIG=_kafka_consumer_config(
                **{"auto.commit.interval.ms": 300}
            ),
            PROFILE_SYNC_BATCH_MAX_RECORDS="40",
            PROFILE_SYNC_MAX_IN_FLIGHT_REQUESTS="2",
            PROFILE_SYNC_REVOKE_TIMEOUT_S="10",
        )
        group = env["PROFILE_SYNC_GROUP_ID"]
        set_env(monkeypatch, env)
        # No idle exit: the first member may finish its own partitions while the second one
        # still works; it is stopped once the group has committed everything.
        first = start_consumer()
        wait_for(lambda: target.stats()["messages"]["accepted"] >= 400, 60, "first deliveries")
        second = start_consumer()
        wait_for(lambda: second.metrics.rebalances("assigned") >= 1, 30, "the second member")
        wait_for(lambda: len(group_members(kafka_broker.bootstrap, group)) == 2, 30, "two members")
        assert first.metrics.rebalances("revoked") >= 1  # cooperative: gave some partitions up
        accepted = target.stats()["messages"]["accepted"]
        wait_for(
            lambda: target.stats()["messages"]["accepted"] >= accepted + 300,
            60,
            "deliveries by two members",
        )
        assert target.stats()["messages"]["accepted"] < 3500, "the stream ended too early"
        second.stop.set()
        assert second.wait(30) == 0
        ends = end_offsets(kafka_broker.bootstrap, topics.name, topics.partitions)
        wait_for(
            lambda: committed_offsets(kafka_broker.bootstrap, group, topics.name, 4) == ends,
            90,
            "everything committed by the remaining member",
        )
        first.stop.set()
        assert first.wait(30) == 0
        assert first.metrics.rebalances("lost") == 0
        assert second.metrics.rebalances("lost") == 0
        # Newest record per customer in the emulator: nothing lost, nothing rolled back.
        check_final_state(
            kafka_broker.bootstrap, topics, group, target, produced, exactly_once=False
        )


def test_sigterm_under_faults_exits_0_within_the_bound_and_commits_what_was_delivered(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=3)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 3000, 34, 0.02)
    revoke_timeout_s = 4
    with aep_target() as target:
        target.faults({"latency_ms": 200, "error_rate": 0.3, "statuses": [503, 429]})
        env = {
            **os.environ,
            **consumer_env(
                kafka_broker.bootstrap,
                topics,
                target,
                PROFILE_SYNC_BATCH_MAX_RECORDS="50",
                PROFILE_SYNC_AEP_REQUEST_TIMEOUT_S="2",
                PROFILE_SYNC_REVOKE_TIMEOUT_S=str(revoke_timeout_s),
            ),
        }
        group = env["PROFILE_SYNC_GROUP_ID"]
        process = subprocess.Popen([PROFILE_SYNC, "run"], env=env)
        wait_for(lambda: target.stats()["messages"]["accepted"] >= 300, 60, "first deliveries")
        assert process.poll() is None
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(revoke_timeout_s + 10) == 0
        # Within the bound: the revoke wait, plus leaving the group and flushing.
        assert time.monotonic() - signalled < revoke_timeout_s + 5
        assert topics.dlq is not None
        held = account(kafka_broker.bootstrap, topics.name, topics.dlq, target.url)
        ends = end_offsets(kafka_broker.bootstrap, topics.name, topics.partitions)
        expected = {
            p: min((o for _t, q, o in held.lost_coordinates if q == p), default=ends[p])
            for p in range(topics.partitions)
        }
        committed = committed_offsets(kafka_broker.bootstrap, group, topics.name, 3)
        assert {p: max(o, 0) for p, o in committed.items()} == expected
        assert sum(expected.values()) < sum(ends.values()), "SIGTERM came too late"
        target.faults({})
        restart = subprocess.run(
            [PROFILE_SYNC, "run", "--exit-when-idle", "1.5"], env=env, timeout=120, check=False
        )
        assert restart.returncode == 0
        check_final_state(
            kafka_broker.bootstrap, topics, group, target, produced, exactly_once=False
        )


def test_a_jump_of_the_dead_letter_share_trips_the_guard_with_exit_4(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = make_topics(partitions=2)
    assert topics.dlq is not None
    healthy = produce_sample(kafka_broker.bootstrap, topics.name, 300, 35, 0.0)
    with aep_target() as target:
        env = consumer_env(
            kafka_broker.bootstrap,
            topics,
            target,
            PROFILE_SYNC_DLQ_GUARD_WINDOW_S="30",
            PROFILE_SYNC_DLQ_GUARD_MIN_RECORDS="100",
            PROFILE_SYNC_DLQ_GUARD_MAX_SHARE="0.5",
        )
        group = env["PROFILE_SYNC_GROUP_ID"]
        set_env(monkeypatch, env)
        first = start_consumer(exit_when_idle=1.0)
        assert first.wait(60) == 0
        before = committed_offsets(kafka_broker.bootstrap, group, topics.name, 2)
        assert before == end_offsets(kafka_broker.bootstrap, topics.name, 2)

        # A bad release: most new events are poison.
        poisoned = produce_sample(kafka_broker.bootstrap, topics.name, 600, 36, 0.9)
        second = start_consumer(exit_when_idle=1.0)
        assert second.wait(60) == 4
        assert second.metrics.total(names.GUARD_TRIPPED) == 1
        # Nothing committed past the window's first record (the first of this run).
        assert committed_offsets(kafka_broker.bootstrap, group, topics.name, 2) == before
        written = read_dead_letters(kafka_broker.bootstrap, topics.dlq)
        assert 0 < len(written) < len(poisoned.poison)  # no further writes once tripped

        # With the guard lifted (the fix deployed), everything is accounted for.
        monkeypatch.setenv("PROFILE_SYNC_DLQ_GUARD_MAX_SHARE", "1")
        third = start_consumer(exit_when_idle=1.0)
        assert third.wait(60) == 0
        check_final_state(
            kafka_broker.bootstrap,
            topics,
            group,
            target,
            merged(healthy, poisoned),
            exactly_once=False,
        )
