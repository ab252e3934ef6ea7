"""`run` reading the replay topic beside the source, against the real broker and the emulator:
a whole window replayed after a mapping change while live updates keep arriving, `run` and the
`replay` command killed half-way, a member joining during a replay, a missing replay topic."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from consumer.commands.run import run_consumer
from consumer.observability import metric_names as names
from devenv.kafka_local import Broker, create_topics
from devenv.sample_events import SampleEvent
from tests.integration.ops_support import PROFILE_SYNC, clean_env
from tests.integration.replay_support import (
    everything_committed,
    iso,
    read_by_two_at_once,
    readings,
    replay,
    replay_process,
    rolled_back,
    sent_per_customer,
)
from tests.integration.resilience_support import set_env, start_consumer, wait_for
from tests.integration.run_support import aep_target, consumer_env, end_offsets, read_topic
from tests.integration.state_support import Customers, produce_events, stamp
from tests.support.kafka import TopicFactory

# Delivered first without the e-mail identity; the "mapping fix" turns it on, and a replay must
# bring it to every profile.
WITHOUT_EMAIL = {"PROFILE_SYNC_XDM_EMAIL_IDENTITY": "false"}


def _versions(customers: Customers, ids: list[str], minutes: tuple[int, ...]) -> list[SampleEvent]:
    return [customers.upsert(c, m) for m in minutes for c in ids]


def test_a_window_replayed_while_live_brings_the_fix_and_never_rolls_back(
    kafka_broker: Broker, make_topics: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap = kafka_broker.bootstrap
    topics = make_topics(partitions=3)
    assert topics.replay is not None
    customers = Customers(seed=5, sample=6000)
    ids = customers.ids(2000)
    live = ids[::2]  # these get a newer version during the replay
    began = time.time() - 2
    produce_events(bootstrap, topics.name, _versions(customers, ids, (10, 20, 30)))
    with aep_target() as target:
        env = consumer_env(bootstrap, topics, target, **WITHOUT_EMAIL)
        group = env["PROFILE_SYNC_GROUP_ID"]
        set_env(monkeypatch, env)
        first = start_consumer()
        wait_for(lambda: everything_committed(bootstrap, group, topics), 120, "the first pass")
        first.stop.set()
        assert first.wait(60) == 0

        # The fix, then the whole window replayed while new versions keep arriving.
        monkeypatch.setenv("PROFILE_SYNC_XDM_EMAIL_IDENTITY", "true")
        consumer = start_consumer()
        arriving = threading.Thread(
            target=lambda: [
                (
                    produce_events(
                        bootstrap, topics.name, [customers.upsert(c, 40) for c in chunk]
                    ),
                    time.sleep(0.2),
                )
                for chunk in (live[i : i + 100] for i in range(0, len(live), 100))
            ]
        )
        arriving.start()
        replay(env, "--from", iso(began))
        arriving.join(60)
        ends = end_offsets(bootstrap, topics.replay, topics.partitions)
        assert sum(ends.values()) >= 3 * len(ids)
        wait_for(lambda: everything_committed(bootstrap, group, topics), 180, "the replay")
        consumer.stop.set()
        assert consumer.wait(60) == 0
        sent = sent_per_customer(target)

    assert not rolled_back(sent), rolled_back(sent)[:5]
    newest = {c: stamp(40) if c in set(live) else stamp(30) for c in ids}
    assert {c: sent[c][-1].updated for c in ids} == newest
    assert [c for c in ids if not sent[c][-1].email_identity] == []
    # Every replayed record polled once and accounted for by exactly one outcome.
    metrics = consumer.metrics
    polled = metrics.total(names.REPLAY_RECORDS_IN)
    assert polled == sum(ends.values())
    outcomes = {o: metrics.total(names.REPLAY_RECORDS, outcome=o) for o in names.REPLAY_OUTCOMES}
    assert sum(outcomes.values()) == polled, outcomes
    assert outcomes["stale"] >= 2 * len(ids)  # minutes 10 and 20 never go out again
    assert outcomes["dead_lettered"] == 0


def test_run_and_the_replay_command_killed_half_way_lose_nothing_and_roll_nothing_back(
    kafka_broker: Broker, make_topics: TopicFactory, tmp_path: Path
) -> None:
    bootstrap = kafka_broker.bootstrap
    topics = make_topics(partitions=2)
    assert topics.replay is not None
    customers = Customers(seed=6, sample=2000)
    ids = customers.ids(500)
    began = time.time() - 2
    produce_events(bootstrap, topics.name, _versions(customers, ids, (10, 20)))
    with aep_target() as target:
        env = clean_env(consumer_env(bootstrap, topics, target, **WITHOUT_EMAIL))
        group = env["PROFILE_SYNC_GROUP_ID"]
        first = subprocess.run(
            [PROFILE_SYNC, "run", "--exit-when-idle", "2"], env=env, timeout=120, check=False
        )
        assert first.returncode == 0
        env["PROFILE_SYNC_XDM_EMAIL_IDENTITY"] = "true"
        consumer = subprocess.Popen([PROFILE_SYNC, "run"], env=env)
        try:
            copying = replay_process(env, "--from", iso(began), "--rate", "250")
            # Past the 500 oldest versions: some newest ones are copied before the kill.
            wait_for(lambda: len(read_topic(bootstrap, topics.replay or "")) >= 600, 30, "a copy")
            copying.send_signal(signal.SIGKILL)
            copying.wait(10)
            half = len(read_topic(bootstrap, topics.replay))
            assert half < 2 * len(ids), "the copy ended before it was killed"
            assert consumer.poll() is None, "run stopped"
            wait_for(
                lambda: any(
                    s.email_identity for v in sent_per_customer(target).values() for s in v
                ),
                60,
                "replayed records at AEP",
            )
        finally:
            consumer.send_signal(signal.SIGKILL)
            consumer.wait(10)
        # Both again from the start: duplicates are harmless.
        replay(env, "--from", iso(began))
        second = subprocess.run(
            [PROFILE_SYNC, "run", "--exit-when-idle", "3"], env=env, timeout=180, check=False
        )
        assert second.returncode == 0
        assert everything_committed(bootstrap, group, topics)
        sent = sent_per_customer(target)
    assert not rolled_back(sent), rolled_back(sent)[:5]
    assert {c: sent[c][-1].updated for c in ids} == {c: stamp(20) for c in ids}
    assert [c for c in ids if not sent[c][-1].email_identity] == []


def test_a_member_joining_during_a_replay_never_shares_a_partition_of_either_topic(
    kafka_broker: Broker, make_topics: TopicFactory, tmp_path: Path
) -> None:
    bootstrap = kafka_broker.bootstrap
    topics = make_topics(partitions=4)
    assert topics.replay is not None
    customers = Customers(seed=7, sample=2000)
    ids = customers.ids(600)
    began = time.time() - 2
    produce_events(bootstrap, topics.name, _versions(customers, ids, (10, 20)))
    logs = {name: tmp_path / f"{name}.log" for name in ("one", "two")}
    ended: dict[str, float] = {}
    with aep_target() as target:
        env = clean_env(consumer_env(bootstrap, topics, target, PROFILE_SYNC_LOG_LEVEL="DEBUG"))
        group = env["PROFILE_SYNC_GROUP_ID"]
        members: dict[str, subprocess.Popen[bytes]] = {}

        def start(name: str) -> None:
            with logs[name].open("wb") as log:
                members[name] = subprocess.Popen(
                    [PROFILE_SYNC, "run"],
                    env={**env, "PROFILE_SYNC_STATE_DIR": str(tmp_path / name)},
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )

        start("one")
        stopping = time.time()
        try:
            wait_for(lambda: everything_committed(bootstrap, group, topics), 90, "the first pass")
            copying = replay_process(env, "--from", iso(began), "--rate", "300")
            wait_for(lambda: len(read_topic(bootstrap, topics.replay or "")) >= 150, 30, "copy")
            start("two")
            assert copying.wait(60) == 0
            wait_for(lambda: b'"reading_started"' in logs["two"].read_bytes(), 60, "two reading")
            wait_for(lambda: everything_committed(bootstrap, group, topics), 120, "the replay")
        finally:
            stopping = time.time()
            for name, process in members.items():
                process.send_signal(signal.SIGTERM)
                assert process.wait(60) == 0, name
                ended[name] = time.time()
        sent = sent_per_customer(target)
    found = readings(logs, ended)
    assert not read_by_two_at_once(found), read_by_two_at_once(found)
    # The join moved replay partitions from one member to the other (before the members were
    # stopped, one after the other, which moves partitions again).
    replay_readers = {r.member for r in found if r.topic == topics.replay}
    assert replay_readers == {"one", "two"}
    moved = {
        r.partition
        for r in found
        if r.topic == topics.replay and r.member == "two" and r.start < stopping
    }
    assert moved
    assert moved < set(range(topics.partitions))
    assert not rolled_back(sent), rolled_back(sent)[:5]
    assert {c: sent[c][-1].updated for c in ids} == {c: stamp(20) for c in ids}


@pytest.mark.parametrize("problem", ["missing", "partitions"])
def test_run_exits_2_naming_the_replay_topic(
    kafka_broker: Broker,
    make_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    problem: str,
) -> None:
    topics = make_topics(partitions=3, replay=False)
    replay_topic = f"{topics.name}.replay"
    if problem == "partitions":
        create_topics(kafka_broker.bootstrap, {replay_topic: 2})
    with aep_target() as target:
        set_env(monkeypatch, consumer_env(kafka_broker.bootstrap, topics, target))
        assert run_consumer(None, 1) == 2
    err = capsys.readouterr().err
    assert f"PROFILE_SYNC_REPLAY_TOPIC: topic {replay_topic!r}" in err
    assert ("does not exist" if problem == "missing" else "has 2 partition(s)") in err
