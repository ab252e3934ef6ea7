"""Shared pieces of the operator-command tests (`replay`, `dlq`): running the CLI in-process
with a clean environment, producing records with chosen timestamps and headers, and reading a
topic back."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from devenv import kafka_local
from tests.integration.run_support import read_topic

PROFILE_SYNC = str(Path(sys.executable).with_name("profile-sync"))

Header = tuple[str, bytes | None]


def clean_env(env: Mapping[str, str]) -> dict[str, str]:
    """The process environment without any PROFILE_SYNC_* variable, then `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PROFILE_SYNC_")}
    return {**base, **env}


@dataclass(frozen=True)
class Written:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]
    timestamp_ms: int


def produce_records(
    bootstrap: str,
    topic: str,
    records: Sequence[tuple[int, bytes | None, bytes | None, Sequence[Header], int]],
) -> list[Written]:
    """(partition, key, value, headers, timestamp ms) each, in order; returns what was written."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    written: list[Written] = []
    errors: list[Any] = []

    def report(record: tuple[int, bytes | None, bytes | None, Sequence[Header], int]) -> Any:
        def callback(error: Any, msg: Any) -> None:
            if error is not None:
                errors.append(error)
                return
            written.append(
                Written(
                    msg.partition(), msg.offset(), record[1], record[2], tuple(record[3]), record[4]
                )
            )

        return callback

    for record in records:
        partition, key, value, headers, timestamp_ms = record
        producer.produce(
            topic,
            key=key,
            value=value,
            headers=list(headers),
            partition=partition,
            timestamp=timestamp_ms,
            on_delivery=report(record),
        )
        producer.poll(0)
    assert producer.flush(30) == 0
    assert not errors, errors[:3]
    return sorted(written, key=lambda w: (w.partition, w.offset))


def create_topic(bootstrap: str, name: str, partitions: int) -> str:
    kafka_local.create_topics(bootstrap, {name: partitions})
    return name


def headers_of(message: Any) -> dict[str, str]:
    return {k: (v or b"").decode("utf-8", "replace") for k, v in message.headers() or []}


def read_all(bootstrap: str, topic: str) -> list[Any]:
    return read_topic(bootstrap, topic)
