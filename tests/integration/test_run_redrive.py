"""`dlq redrive` end to end: dead letters written back into the replay topic are picked up by
`run`. One whose writer schema was added meanwhile is delivered; one whose customer has a newer
version in AEP is skipped as stale; one that still fails is dead-lettered again with one more
attempt, the redrive id and its ORIGINAL source coordinates (not the replay topic's)."""

from __future__ import annotations

import subprocess
import time
from io import BytesIO
from pathlib import Path
from typing import Any

import orjson
from fastavro import schemaless_writer

from devenv.kafka_local import Broker
from schemas.avro import EventEncoder, WriterSchemaRegistry
from schemas.avro.framing import single_object_header
from schemas.avro.writer_schema import parse_writer_schema
from tests.integration.ops_support import PROFILE_SYNC, clean_env, headers_of, produce_records
from tests.integration.replay_support import everything_committed, sent_per_customer
from tests.integration.run_support import aep_target, consumer_env, read_topic
from tests.integration.state_support import Customers, stamp
from tests.support.cli import cli
from tests.support.kafka import TopicFactory


def _newer_writer_schema(directory: Path) -> Any:
    """CustomerUpdated with one more optional field: a writer schema `run` does not know until
    it is added through PROFILE_SYNC_AVRO_SCHEMA_DIR."""
    shipped = WriterSchemaRegistry.load(None).shipped("CustomerUpdated")
    document = orjson.loads(shipped.text)
    document["fields"].append({"name": "loyalty_tier", "type": ["null", "string"], "default": None})
    text = orjson.dumps(document).decode()
    directory.mkdir()
    (directory / "CustomerUpdated.v3.avsc").write_text(text)
    return parse_writer_schema(text, origin="test")


def _run(env: dict[str, str]) -> None:
    done = subprocess.run(
        [PROFILE_SYNC, "run", "--exit-when-idle", "2"],
        env=env,
        timeout=120,
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_redriven_dead_letters_are_delivered_skipped_or_dead_lettered_again(
    kafka_broker: Broker, make_topics: TopicFactory, tmp_path: Path
) -> None:
    bootstrap = kafka_broker.bootstrap
    topics = make_topics(partitions=2)
    assert topics.dlq is not None
    assert topics.replay is not None
    newer = _newer_writer_schema(tmp_path / "schemas")
    encoder = EventEncoder(WriterSchemaRegistry.load(None))
    customers = Customers(seed=8)
    ids = customers.ids(8)
    unknown, broken = ids[:6], ids[6:]
    ahead = unknown[0]  # gets a newer version in AEP before the redrive

    def with_newer_schema(customer: str) -> bytes:
        event = customers.upsert(customer, 20)
        body = BytesIO()
        schemaless_writer(body, newer.parsed, {**event.datum, "loyalty_tier": "gold"})
        return single_object_header(newer.fingerprint) + body.getvalue()

    def plain(customer: str, minute: int) -> bytes:
        event = customers.upsert(customer, minute)
        return encoder.encode_single_object(event.record_type, event.datum)

    records = [(c, with_newer_schema(c)) for c in unknown]
    records += [(c, plain(c, 20) + b"\x00\x00\x00") for c in broken]  # bytes left over
    records.append((ahead, plain(ahead, 30)))
    now = int(time.time() * 1000)
    produce_records(
        bootstrap, topics.name, [(int(c) % 2, c.encode(), v, [], now) for c, v in records]
    )
    with aep_target() as target:
        env = clean_env(consumer_env(bootstrap, topics, target))
        _run(env)
        first = {int(m.key()): m for m in read_topic(bootstrap, topics.dlq)}
        classes = {c: headers_of(m)["profile_sync.error.class"] for c, m in first.items()}
        assert classes == {
            **{int(c): "decode.unknown_fingerprint" for c in unknown},
            **{int(c): "decode.malformed_body" for c in broken},
        }

        redrive = cli(
            {
                "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "PROFILE_SYNC_TOPIC": topics.name,
                "PROFILE_SYNC_DLQ_TOPIC": topics.dlq,
            },
            "dlq",
            "redrive",
            "--execute",
        )
        assert redrive.exit_code == 0, redrive.stderr
        written = read_topic(bootstrap, topics.replay)
        assert len(written) == len(ids)
        redrive_ids = {headers_of(m)["profile_sync.redrive.id"] for m in written}
        assert len(redrive_ids) == 1

        # The fix: the missing writer schema is added.
        _run({**env, "PROFILE_SYNC_AVRO_SCHEMA_DIR": str(tmp_path / "schemas")})
        assert everything_committed(bootstrap, env["PROFILE_SYNC_GROUP_ID"], topics)
        sent = sent_per_customer(target)

    # Delivered now, except the customer whose newer version AEP already holds (stale).
    assert {c: [s.updated for s in sent[c]] for c in unknown} == {
        **{c: [stamp(20)] for c in unknown[1:]},
        ahead: [stamp(30)],
    }
    dead_letters = read_topic(bootstrap, topics.dlq)
    again = [m for m in dead_letters if "profile_sync.redrive.id" in headers_of(m)]
    assert len(dead_letters) == len(first) + len(again)
    assert sorted(int(m.key()) for m in again) == sorted(int(c) for c in broken)
    for message in again:
        headers = headers_of(message)
        original = headers_of(first[int(message.key())])
        assert headers["profile_sync.error.class"] == "decode.malformed_body"
        assert int(headers["profile_sync.attempts"]) == int(original["profile_sync.attempts"]) + 1
        assert headers["profile_sync.redrive.id"] in redrive_ids
        for name in ("topic", "partition", "offset"):
            key = f"__connect.errors.{name}"
            assert headers[key] == original[key], key
        assert headers["__connect.errors.topic"] == topics.name
        # One value per header: the provenance the redrive added is not copied along.
        names = [k for k, _ in message.headers() or []]
        assert len(names) == len(set(names)), names
        assert message.value() == first[int(message.key())].value()
