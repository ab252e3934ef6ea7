"""Shared pieces of the replay tests: what the emulator received per customer, the replay
group's commits, the `replay` command as a process, and when each member read which partition."""

from __future__ import annotations

import itertools
import subprocess
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tests.integration.ops_support import PROFILE_SYNC, clean_env
from tests.integration.run_support import (
    AepTarget,
    committed_offsets,
    customer_of_entity,
    end_offsets,
)
from tests.support.kafka import Topics


@dataclass(frozen=True)
class Sent:
    operation: str
    updated: str | None  # lastUpdatedDate
    email_identity: bool


def sent_per_customer(target: AepTarget) -> dict[str, list[Sent]]:
    """Per customer, what the emulator received, in ingestion order (last ingestion wins)."""
    seen: dict[str, list[Sent]] = defaultdict(list)
    for record in target.records():
        entity = record["entity"]
        audit = entity.get("extSourceSystemAudit") or {}
        seen[customer_of_entity(entity)].append(
            Sent(
                record["operation"],
                audit.get("lastUpdatedDate"),
                bool(entity["identityMap"].get("Email")),
            )
        )
    return seen


def rolled_back(sent: Mapping[str, list[Sent]]) -> list[str]:
    """Customers that were sent an older version after a newer one."""
    found = []
    for customer, versions in sent.items():
        stamps = [s.updated or "" for s in versions]
        if any(later < earlier for earlier, later in itertools.pairwise(stamps)):
            found.append(f"{customer}: {stamps}")
    return found


def all_committed(bootstrap: str, group: str, topic: str, partitions: int) -> bool:
    """Every record of `topic` committed by `group` (an empty partition needs no commit)."""
    ends = end_offsets(bootstrap, topic, partitions)
    committed = committed_offsets(bootstrap, group, topic, partitions)
    return all(committed[p] == end or (end == 0 and committed[p] < 0) for p, end in ends.items())


def everything_committed(bootstrap: str, group: str, topics: Topics) -> bool:
    assert topics.replay is not None
    return all_committed(bootstrap, group, topics.name, topics.partitions) and all_committed(
        bootstrap, f"{group}.replay", topics.replay, topics.partitions
    )


def iso(epoch_s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


def replay_process(env: Mapping[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PROFILE_SYNC, "replay", *args, "--execute", "--json"],
        env=clean_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def replay(env: Mapping[str, str], *args: str) -> list[dict[str, Any]]:
    """`replay ARGS --execute --json` to its end; its JSON lines."""
    process = replay_process(env, *args)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()[-2000:]
    return [orjson.loads(line) for line in out.splitlines() if line.strip()]


@dataclass(frozen=True)
class Reading:
    member: str
    topic: str
    partition: int
    start: float
    end: float


def readings(logs: Mapping[str, Path], ended_at: Mapping[str, float]) -> list[Reading]:
    """From the members' debug lines `reading_started` / `reading_stopped`: when each member
    read which partition (still open at its end: until it ended)."""
    found: list[Reading] = []
    for member, log in logs.items():
        open_: dict[tuple[str, int], float] = {}
        for line in log.read_bytes().splitlines():
            if not line.startswith(b"{"):
                continue
            entry = orjson.loads(line)
            event = entry.get("event")
            if event not in ("reading_started", "reading_stopped"):
                continue
            for partition in entry["partitions"]:
                key = (entry["topic"], partition)
                if event == "reading_started":
                    assert key not in open_, f"{member} started {key} twice"
                    open_[key] = entry["at"]
                elif key in open_:
                    found.append(Reading(member, *key, open_.pop(key), entry["at"]))
        for (topic, partition), start in open_.items():
            found.append(Reading(member, topic, partition, start, ended_at[member]))
    return found


def read_by_two_at_once(found: list[Reading]) -> list[str]:
    by_partition: dict[tuple[str, int], list[Reading]] = defaultdict(list)
    for reading in found:
        by_partition[(reading.topic, reading.partition)].append(reading)
    overlaps = []
    for key, spans in by_partition.items():
        spans.sort(key=lambda r: r.start)
        longest = spans[0]  # of those started so far, the one that ends last
        for after in spans[1:]:
            if after.start < longest.end:
                overlaps.append(f"{key}: {longest} and {after}")
            if after.end > longest.end:
                longest = after
    return overlaps
