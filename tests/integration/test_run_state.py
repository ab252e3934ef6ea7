"""Issue 14's stale-update guard against the real broker and the emulator: out-of-order versions
across polls, a restart after SIGKILL with the state directory deleted, a second member that
restores its partitions' marks, a delete followed by a late update, and a bad state topic."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from consumer.commands.run import run_consumer
from consumer.observability import metric_names as names
from devenv.kafka_local import Broker, create_topics
from tests.integration.resilience_support import (
    group_members,
    set_env,
    start_consumer,
    wait_for,
)
from tests.integration.run_support import (
    aep_target,
    committed_offsets,
    consumer_env,
    end_offsets,
    read_topic,
)
from tests.integration.state_support import Customers, history, produce_events, stamp
from tests.support.kafka import TopicFactory, Topics

PROFILE_SYNC = str(Path(sys.executable).with_name("profile-sync"))


def _all_committed(bootstrap: str, group: str, topics: Topics) -> bool:
    ends = end_offsets(bootstrap, topics.name, topics.partitions)
    return committed_offsets(bootstrap, group, topics.name, topics.partitions) == ends


def test_older_versions_polled_after_a_newer_one_are_skipped_as_stale(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = make_topics(partitions=2)
    customers = Customers()
    ids = customers.ids(6)
    with aep_target() as target:
        env = consumer_env(kafka_broker.bootstrap, topics, target)
        group = env["PROFILE_SYNC_GROUP_ID"]
        set_env(monkeypatch, env)
        consumer = start_consumer()
        # Newest first: every customer's version updated at minute 30 is accepted...
        produce_events(kafka_broker.bootstrap, topics.name, [customers.upsert(c, 30) for c in ids])
        wait_for(lambda: set(history(target)) == set(ids), 60, "the newest versions")
        # ...then older versions arrive, in later polls.
        produce_events(kafka_broker.bootstrap, topics.name, [customers.upsert(c, 20) for c in ids])
        produce_events(kafka_broker.bootstrap, topics.name, [customers.upsert(c, 10) for c in ids])
        wait_for(lambda: _all_committed(kafka_broker.bootstrap, group, topics), 60, "commits")
        consumer.stop.set()
        assert consumer.wait(60) == 0
        assert consumer.metrics.total(names.RECORDS_STALE) == 2 * len(ids)
        sent = history(target)
        assert {c: sent[c] for c in ids} == {c: [("create", stamp(30))] for c in ids}


def test_restart_after_sigkill_without_the_state_directory_restores_the_marks(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=2)
    assert topics.state is not None
    customers = Customers(seed=42)
    ids = customers.ids(6)
    with aep_target() as target:
        env = {**os.environ, **consumer_env(kafka_broker.bootstrap, topics, target)}
        state_dir = Path(env["PROFILE_SYNC_STATE_DIR"])
        produce_events(kafka_broker.bootstrap, topics.name, [customers.upsert(c, 30) for c in ids])
        first = subprocess.Popen([PROFILE_SYNC, "run"], env=env)
        try:
            wait_for(lambda: set(history(target)) == set(ids), 60, "the newest versions")
            # The marks are in the changelog once their writes are acknowledged.
            wait_for(
                lambda: len(read_topic(kafka_broker.bootstrap, topics.state or "")) >= len(ids),
                30,
                "the marks in the changelog",
            )
            assert first.poll() is None
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert first.returncode == -signal.SIGKILL
        assert any(state_dir.iterdir())
        shutil.rmtree(state_dir)
        # Older versions, produced after the crash.
        produce_events(kafka_broker.bootstrap, topics.name, [customers.upsert(c, 10) for c in ids])
        second = subprocess.run(
            [PROFILE_SYNC, "run", "--exit-when-idle", "2"],
            env={**env, "PROFILE_SYNC_LOG_LEVEL": "INFO"},
            timeout=120,
            check=False,
            capture_output=True,
            text=True,
        )
        assert second.returncode == 0, second.stderr[-2000:]
        restored = [line for line in second.stderr.splitlines() if "state_restored" in line]
        assert restored, second.stderr[-2000:]
        assert all('"from_checkpoint": false' in line for line in restored)
        sent = history(target)
        for customer in ids:
            # Possibly sent twice (the kill may have come before the commit), never rolled back.
            assert set(sent[customer]) == {("create", stamp(30))}, sent[customer]
        assert _all_committed(kafka_broker.bootstrap, env["PROFILE_SYNC_GROUP_ID"], topics)


def test_a_joining_member_restores_its_partitions_marks_before_sending(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = make_topics(partitions=4)
    customers = Customers(seed=43)
    ids = customers.ids(24)
    with aep_target() as target:
        env = consumer_env(
            kafka_broker.bootstrap,
            topics,
            target,
            PROFILE_SYNC_KAFKA_CONSUMER_CONFIG=(
                '{"session.timeout.ms": 6000, "heartbeat.interval.ms": 500,'
                ' "auto.commit.interval.ms": 300}'
            ),
        )
        group = env["PROFILE_SYNC_GROUP_ID"]
        set_env(monkeypatch, env)
        first = start_consumer()
        produce_events(kafka_broker.bootstrap, topics.name, [customers.upsert(c, 30) for c in ids])
        wait_for(lambda: set(history(target)) == set(ids), 60, "the newest versions")
        wait_for(lambda: _all_committed(kafka_broker.bootstrap, group, topics), 60, "commits")
        # The second member has a state directory of its own, empty: it must read the marks of
        # the partitions it takes from the changelog.
        monkeypatch.setenv("PROFILE_SYNC_STATE_DIR", str(Path(env["PROFILE_SYNC_STATE_DIR"]) / "b"))
        second = start_consumer()
        wait_for(lambda: len(group_members(kafka_broker.bootstrap, group)) == 2, 60, "two members")
        wait_for(lambda: second.metrics.total(names.STATE_RESTORE_RECORDS) > 0, 30, "the restore")
        produce_events(kafka_broker.bootstrap, topics.name, [customers.upsert(c, 10) for c in ids])
        wait_for(lambda: _all_committed(kafka_broker.bootstrap, group, topics), 60, "commits")
        second.stop.set()
        assert second.wait(60) == 0
        first.stop.set()
        assert first.wait(60) == 0
        # Both members skipped the older versions of their customers.
        assert second.metrics.total(names.RECORDS_STALE) > 0
        stale = first.metrics.total(names.RECORDS_STALE) + second.metrics.total(names.RECORDS_STALE)
        assert stale == len(ids)
        sent = history(target)
        assert {c: sent[c] for c in ids} == {c: [("create", stamp(30))] for c in ids}


def test_a_late_update_never_resurrects_a_deleted_profile(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = make_topics(partitions=1)
    customers = Customers(seed=44)
    [customer] = customers.ids(1)
    with aep_target() as target:
        env = consumer_env(kafka_broker.bootstrap, topics, target)
        group = env["PROFILE_SYNC_GROUP_ID"]
        set_env(monkeypatch, env)
        consumer = start_consumer()

        def settled() -> bool:
            return _all_committed(kafka_broker.bootstrap, group, topics)

        produce_events(kafka_broker.bootstrap, topics.name, [customers.upsert(customer, 10)])
        wait_for(lambda: len(history(target).get(customer, [])) == 1, 60, "the create")
        produce_events(kafka_broker.bootstrap, topics.name, [customers.delete(customer, 30)])
        wait_for(lambda: len(history(target).get(customer, [])) == 2, 60, "the delete")
        # A late update: changed before the delete (updated_at minute 20), arriving after it.
        produce_events(
            kafka_broker.bootstrap, topics.name, [customers.upsert(customer, 20, event_minute=31)]
        )
        wait_for(settled, 60, "the late update accounted for")
        assert history(target)[customer][-1][0] == "delete"
        assert consumer.metrics.total(names.RECORDS_STALE) == 1
        # A newer create brings the profile back.
        produce_events(kafka_broker.bootstrap, topics.name, [customers.upsert(customer, 40)])
        wait_for(lambda: len(history(target).get(customer, [])) == 3, 60, "the newer create")
        wait_for(settled, 60, "commits")
        consumer.stop.set()
        assert consumer.wait(60) == 0
        assert history(target)[customer] == [
            ("create", stamp(10)),
            ("delete", None),
            ("create", stamp(40)),
        ]


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("missing", "does not exist"),
        ("partitions", "has 2 partition(s)"),
        ("not compacted", "is not compacted"),
    ],
)
def test_a_bad_state_topic_exits_2_naming_it(
    kafka_broker: Broker,
    make_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    problem: str,
    expected: str,
) -> None:
    topics = make_topics(partitions=3, state=False)
    state = f"{topics.name}.state"
    if problem == "partitions":
        create_topics(kafka_broker.bootstrap, {state: 2}, {"cleanup.policy": "compact"})
    elif problem == "not compacted":
        create_topics(kafka_broker.bootstrap, {state: 3})
    with aep_target() as target:
        env = consumer_env(kafka_broker.bootstrap, topics, target, PROFILE_SYNC_STATE_TOPIC=state)
        set_env(monkeypatch, env)
        started = time.monotonic()
        assert run_consumer(None, exit_when_idle=1.0) == 2
        assert time.monotonic() - started < 30
        err = capsys.readouterr().err
        assert "PROFILE_SYNC_STATE_TOPIC" in err
        assert repr(state) in err
        assert expected in err
        assert target.stats()["messages"]["received"] == 0


def test_a_restart_with_the_state_directory_resumes_from_its_checkpoint(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=1)
    customers = Customers(seed=45)
    ids = customers.ids(4)
    with aep_target() as target:
        env = {
            **os.environ,
            **consumer_env(kafka_broker.bootstrap, topics, target),
            "PROFILE_SYNC_LOG_LEVEL": "INFO",
        }

        def run() -> list[str]:
            done = subprocess.run(
                [PROFILE_SYNC, "run", "--exit-when-idle", "1"],
                env=env,
                timeout=120,
                check=False,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, done.stderr[-2000:]
            return [line for line in done.stderr.splitlines() if "state_restored" in line]

        produce_events(kafka_broker.bootstrap, topics.name, [customers.upsert(c, 30) for c in ids])
        [first] = run()
        assert '"from_checkpoint": false' in first
        produce_events(kafka_broker.bootstrap, topics.name, [customers.upsert(c, 10) for c in ids])
        [second] = run()  # the clean stop saved the store and its checkpoint
        assert '"from_checkpoint": true' in second
        assert '"records": 0' in second
        sent = history(target)
        assert {c: sent[c] for c in ids} == {c: [("create", stamp(30))] for c in ids}
