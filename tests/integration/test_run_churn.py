"""Three real `profile-sync run` processes in one group on 12 partitions, under AEP faults, while
members leave (SIGTERM, SIGKILL) and join every few seconds for about a minute. At the end:

- nothing is lost (`devenv.accounting`: every record delivered, superseded or dead-lettered)
  and every offset is committed;
- no customer was inside two AEP requests at once, in one member or in two: read from the
  members' debug lines `aep_request_sent` / `aep_request_answered` (customer ids, wall-clock
  times); a killed member's open requests count as open until it was killed. Every record the
  emulator received (`/_emulator/records`, `receivedTimeMs`) must lie inside one of its
  customer's windows, so the logs are known to be complete;
- duplicates (records AEP received more than once) are counted and printed: a killed member's
  unfinished work is redone by the partition's next owner, so some are expected.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from devenv.accounting import account
from devenv.kafka_local import Broker
from tests.integration.resilience_support import wait_for
from tests.integration.run_support import (
    aep_target,
    committed_offsets,
    consumer_env,
    customer_of_entity,
    end_offsets,
    produce_sample,
)
from tests.support.kafka import TopicFactory

PROFILE_SYNC = str(Path(sys.executable).with_name("profile-sync"))
PARTITIONS = 12
EVENTS = 12_000
CHURN_S = 60.0
MEMBERS = 3


@dataclass
class Member:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    ended_at: float | None = None  # wall clock, when it was killed or stopped


@dataclass
class Group:
    env: dict[str, str]
    work: Path
    members: list[Member] = field(default_factory=list)
    started: int = 0

    def start(self, *args: str, **extra_env: str) -> Member:
        self.started += 1
        name = f"member-{self.started}"
        log = self.work / f"{name}.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [PROFILE_SYNC, "run", *args],
                # Each member its own state directory, as each pod has its own volume.
                env={**self.env, "PROFILE_SYNC_STATE_DIR": str(self.work / name), **extra_env},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        member = Member(name, process, log)
        self.members.append(member)
        return member

    def alive(self) -> list[Member]:
        return [m for m in self.members if m.ended_at is None and m.process.poll() is None]

    def consuming(self) -> list[Member]:
        """Members past start-up (a SIGTERM before its handler is installed kills at once)."""
        return [m for m in self.alive() if b'"consumer_started"' in m.log.read_bytes()]

    def end(self, member: Member, how: signal.Signals) -> None:
        member.process.send_signal(how)
        if how == signal.SIGKILL:
            member.process.wait(10)
            member.ended_at = time.time()
        else:
            member.process.wait(60)
            member.ended_at = time.time()
            assert member.process.returncode == 0, (
                f"{member.name} exited {member.process.returncode}:\n{_last_faults(member.log)}"
            )


def _last_faults(log: Path, lines: int = 20) -> str:
    """The member's last lines but the debug ones: why it exited (the log holds no personal
    data; the debug lines would drown the reason)."""
    faults = [
        line.decode(errors="replace")
        for line in log.read_bytes().splitlines()
        if not line.startswith(b"{") or b'"level": "debug"' not in line
    ]
    return "\n".join(faults[-lines:])


@dataclass(frozen=True)
class Window:
    member: str
    start: float
    end: float


def request_windows(group: Group) -> dict[int, list[Window]]:
    """customer -> the windows it was inside an AEP request, from every member's debug lines."""
    by_customer: dict[int, list[Window]] = defaultdict(list)
    for member in group.members:
        sent: dict[int, tuple[float, list[int]]] = {}
        last = 0.0
        for line in member.log.read_bytes().splitlines():
            if not line.startswith(b"{"):
                continue
            entry = orjson.loads(line)
            event = entry.get("event")
            if event == "aep_request_sent":
                sent[entry["request"]] = (entry["at"], entry["customers"])
                last = max(last, entry["at"])
            elif event == "aep_request_answered":
                start, customers = sent.pop(entry["request"])
                last = max(last, entry["at"])
                for customer in customers:
                    by_customer[customer].append(Window(member.name, start, entry["at"]))
        # Still open when the member ended (killed): open until then.
        end = member.ended_at or last
        for start, customers in sent.values():
            for customer in customers:
                by_customer[customer].append(Window(member.name, start, max(end, start)))
    return by_customer


def overlaps(windows: dict[int, list[Window]]) -> list[str]:
    found = []
    for customer, spans in windows.items():
        spans = sorted(spans, key=lambda w: w.start)
        longest = spans[0]  # of those started so far, the one that ends last
        for after in spans[1:]:
            if after.start < longest.end:
                found.append(f"customer {customer}: {longest} and {after}")
            if after.end > longest.end:
                longest = after
    return found


def unexplained(records: list[dict[str, Any]], windows: dict[int, list[Window]]) -> list[str]:
    """Records AEP received outside every logged request window of their customer: the logs
    would then be missing requests, and the overlap check would prove nothing."""
    slack = 0.5  # the emulator's receive time and the members' clocks are read apart
    found = []
    for record in records:
        entity = record.get("entity") or {}
        if "identityMap" not in entity:
            continue
        customer = int(customer_of_entity(entity))
        at = record["receivedTimeMs"] / 1000
        spans = windows.get(customer, [])
        if not any(w.start - slack <= at <= w.end + slack for w in spans):
            found.append(f"customer {customer} received at {at:.3f} outside {spans[:3]}")
    return found


@pytest.mark.slow
def test_three_members_joining_and_leaving_under_faults_lose_nothing(
    kafka_broker: Broker, make_topics: TopicFactory, tmp_path: Path
) -> None:
    rng = random.Random(19)
    topics = make_topics(partitions=PARTITIONS)
    assert topics.dlq is not None
    produce_sample(kafka_broker.bootstrap, topics.name, EVENTS, 19, 0.01)
    with aep_target() as target:
        target.faults(
            {
                "error_rate": 0.15,
                "statuses": [429, 500, 503],
                "latency_ms": 10,
                "latency_jitter_ms": 40,
            }
        )
        env = {
            **os.environ,
            **consumer_env(
                kafka_broker.bootstrap,
                topics,
                target,
                PROFILE_SYNC_LOG_LEVEL="DEBUG",
                PROFILE_SYNC_LOG_FORMAT="json",
                PROFILE_SYNC_BATCH_MAX_RECORDS="40",
                # Slow enough that the backlog outlasts the churn.
                PROFILE_SYNC_AEP_MAX_RECORDS_PER_S="80",
                PROFILE_SYNC_AEP_RETRY_BACKOFF_CAP_S="1",
                PROFILE_SYNC_AEP_MAX_RETRIES_PER_S="50",
                PROFILE_SYNC_REVOKE_TIMEOUT_S="20",
            ),
        }
        group = Group(env, tmp_path)
        for _ in range(MEMBERS):
            group.start()
        actions: list[str] = []
        try:
            deadline = time.monotonic() + CHURN_S
            while time.monotonic() < deadline:
                time.sleep(rng.uniform(2.0, 5.0))
                alive, consuming = group.alive(), group.consuming()
                roll = rng.random()
                if len(alive) < MEMBERS and (roll < 0.4 or len(consuming) <= 1):
                    group.start()
                    actions.append("start")
                elif consuming and roll < 0.7:
                    group.end(rng.choice(consuming), signal.SIGTERM)
                    actions.append("SIGTERM")
                elif consuming:
                    group.end(rng.choice(consuming), signal.SIGKILL)
                    actions.append("SIGKILL")
            target.faults({})
            for member in group.alive():
                wait_for(lambda m=member: m in group.consuming(), 60, f"{member.name} to start")
                group.end(member, signal.SIGTERM)
            # One last member drains the rest at full speed.
            last = group.start("--exit-when-idle", "3", PROFILE_SYNC_AEP_MAX_RECORDS_PER_S="10000")
            assert last.process.wait(240) == 0
            last.ended_at = time.time()
        finally:
            for member in group.alive():
                member.process.kill()
                member.process.wait(10)
        held = account(kafka_broker.bootstrap, topics.name, topics.dlq, target.url)
        records = target.records()
    ids = [r["entity"]["_id"] for r in records if "_id" in (r.get("entity") or {})]
    duplicates = len(ids) - len(set(ids))
    windows = request_windows(group)
    print(
        f"churn: {' '.join(actions)}; {held.line()}; "
        f"AEP received {len(ids)} records, {duplicates} duplicates; "
        f"{sum(len(w) for w in windows.values())} request windows of {len(windows)} customers"
    )
    assert {"SIGTERM", "SIGKILL", "start"} <= set(actions), actions
    assert held.lost == 0, held.lost_coordinates[:10]
    ends = end_offsets(kafka_broker.bootstrap, topics.name, PARTITIONS)
    committed = committed_offsets(
        kafka_broker.bootstrap, env["PROFILE_SYNC_GROUP_ID"], topics.name, PARTITIONS
    )
    assert committed == ends
    # Every member took part: the windows come from more than one process.
    assert len({w.member for spans in windows.values() for w in spans}) >= MEMBERS
    assert overlaps(windows) == []
    assert unexplained(records, windows) == []
