"""`profile-sync dlq` against the real broker, on a dead-letter topic filled by the real pipeline
(`run` against the emulator) with every poison kind of the sample generator and crafted source
records (11 classes in all), plus dead letters written with the header contract for the classes
the local stack cannot provoke (AEP refusals, registry and schema faults, ...), spread over
earlier hours."""

from __future__ import annotations

import copy
import fnmatch
import io
import shutil
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastavro import schemaless_writer

from devenv.kafka_local import Broker
from devenv.sample_events import SampleEvent, expected_error_class, generate_events
from devenv.schema_registry import Registry
from schemas.avro import (
    ConfluentRegistryClient,
    EventEncoder,
    WriterSchemaRegistry,
    parse_writer_schema,
)
from schemas.error_classes import ERROR_CLASSES
from tests.integration.ops_support import (
    PROFILE_SYNC,
    clean_env,
    create_topic,
    headers_of,
    produce_records,
    read_all,
)
from tests.integration.run_support import aep_target, consumer_env, produce_sample
from tests.support.cli import cli, json_lines
from tests.support.kafka import TopicFactory, Topics

HOUR_MS = 3_600_000
PIPELINE_CLASSES = {
    "map.invalid_email",
    "decode.empty_value",
    "decode.unknown_magic",
    "decode.truncated",
    "decode.unknown_fingerprint",
    "decode.no_schema_registry",
    "decode.malformed_body",
    "decode.unknown_record_type",
    "map.invalid_timestamp",
    "map.invalid_field",
    "validate.record_too_large",
}
# A writer schema known to the service (PROFILE_SYNC_AVRO_SCHEMA_DIR) that is no commerce event.
OTHER_SCHEMA = {
    "type": "record",
    "name": "LoyaltyPointsAdded",
    "namespace": "com.acme.loyalty",
    "fields": [{"name": "points", "type": "int"}],
}
PERSONAL_FIELDS = frozenset(
    {
        "email",
        "firstname",
        "lastname",
        "middlename",
        "taxvat",
        "street",
        "city",
        "postcode",
        "telephone",
        "company",
        "vat_id",
        "fax",
    }
)


def _ms_iso(millis: int) -> str:
    moment = time.gmtime(millis / 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", moment) + f".{millis % 1000:03d}Z"


@dataclass
class Truth:
    """One dead letter as read back raw from the topic."""

    partition: int
    offset: int
    timestamp_ms: int
    headers: dict[str, str]
    key: bytes | None
    value: bytes | None

    @property
    def error_class(self) -> str:
        return self.headers["profile_sync.error.class"]

    @property
    def customer(self) -> str | None:
        return self.headers.get("profile_sync.customer_id") or (
            self.key.decode() if self.key else None
        )

    @property
    def source(self) -> tuple[str, int, int]:
        h = self.headers
        return (
            h["__connect.errors.topic"],
            int(h["__connect.errors.partition"]),
            int(h["__connect.errors.offset"]),
        )


@dataclass
class FilledDlq:
    topics: Topics
    env: dict[str, str]
    expected_classes: Counter[str]
    events: list[SampleEvent]
    truth: list[Truth]

    def select(self, keep: Callable[[Truth], bool]) -> set[tuple[int, int]]:
        return {(t.partition, t.offset) for t in self.truth if keep(t)}


def _crafted_headers(
    topic: str,
    partition: int,
    offset: int,
    error_class: str,
    event: SampleEvent,
    at_ms: int,
    detail: dict[str, Any],
) -> list[tuple[str, bytes | None]]:
    stage = error_class.split(".")[0]
    headers = {
        "__connect.errors.topic": topic,
        "__connect.errors.partition": str(partition),
        "__connect.errors.offset": str(offset),
        "__connect.errors.exception.class.name": f"profile_sync.{stage.capitalize()}Error",
        "__connect.errors.exception.message": f"{error_class} (crafted)",
        "profile_sync.error.stage": stage,
        "profile_sync.error.class": error_class,
        "profile_sync.error.detail": orjson.dumps(detail).decode(),
        "profile_sync.attempts": "1" if stage == "deliver" else "0",
        "profile_sync.failed_at": _ms_iso(at_ms),
    }
    if stage != "decode":
        headers["profile_sync.event_type"] = event.record_type
        headers["profile_sync.customer_id"] = event.key
    return [("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")] + [
        (k, v.encode()) for k, v in headers.items()
    ]


def _craft_dead_letters(bootstrap: str, topics: Topics, events: list[SampleEvent]) -> None:
    """The classes the local pipeline cannot provoke, written with the header contract, 3 and
    2 hours ago (two per class, on two partitions)."""
    assert topics.dlq is not None
    encoder = EventEncoder(WriterSchemaRegistry.load(None))
    good = [e for e in events if not e.is_poison and e.record_type != "CustomerDeleted"]
    now = int(time.time() * 1000)
    records = []
    for i, error_class in enumerate(sorted(set(ERROR_CLASSES) - PIPELINE_CLASSES)):
        for twin in range(2):
            event = good[i * 2 + twin]
            at_ms = now - (3 - twin) * HOUR_MS
            detail: dict[str, Any] = {"fields": ["customer.dob"]}
            if error_class == "deliver.aep_rejected":
                detail = {"status": 400, "message": "[redacted] is not valid"}
            elif error_class == "deliver.request_too_large":
                detail = {"status": 413, "size": 2_000_000}
            value = event.value(encoder.encode_single_object)
            if error_class.startswith("decode."):
                value = b"\x00\x00\x00\x00\x09" + value[10:]
            source_partition = twin % topics.partitions
            headers = _crafted_headers(
                topics.name,
                source_partition,
                100_000 + i * 2 + twin,
                error_class,
                event,
                at_ms,
                detail,
            )
            records.append((twin % topics.partitions, event.key.encode(), value, headers, at_ms))
    produce_records(bootstrap, topics.dlq, records)


def _crafted_source_records(
    bootstrap: str, topic: str, schema_dir: Path
) -> tuple[Counter[str], list[SampleEvent]]:
    """Source values the generator does not make: Confluent framing without a registry, an
    Avro body with bytes left over, a known writer schema that is no commerce event, a
    timestamp out of range, a negative customer group id, a record over AEP's 100 KB."""
    (schema_dir / "LoyaltyPointsAdded.avsc").write_text(orjson.dumps(OTHER_SCHEMA).decode())
    other = parse_writer_schema(orjson.dumps(OTHER_SCHEMA).decode(), origin="test")
    other_body = io.BytesIO()
    schemaless_writer(other_body, other.parsed, {"points": 5})
    encoder = EventEncoder(WriterSchemaRegistry.load(None))
    events = [
        e
        for e in generate_events(80, seed=99)
        if not e.is_poison and e.record_type == "CustomerUpdated"
    ][:12]
    made: list[tuple[str, bytes, SampleEvent]] = []
    for i, event in enumerate(events):
        kind = i % 6
        datum = copy.deepcopy(event.datum)
        if kind == 3:
            datum["customer"]["updated_at"] = 10**15  # the year 33658
        elif kind == 4:
            datum["customer"]["group_id"] = -1  # Avro takes it; the contract's ids are >= 0
        elif kind == 5:
            datum["customer"].update(firstname="Anna" * 15000, lastname="Berg" * 15000)
        encoded = encoder.encode_single_object(event.record_type, datum)
        value, error_class = {
            0: (b"\x00\x00\x00\x00\x07" + encoded[10:], "decode.no_schema_registry"),
            1: (encoded + b"\x00\x00\x00", "decode.malformed_body"),
            2: (
                b"\xc3\x01" + other.fingerprint + other_body.getvalue(),
                "decode.unknown_record_type",
            ),
            3: (encoded, "map.invalid_timestamp"),
            4: (encoded, "map.invalid_field"),
            5: (encoded, "validate.record_too_large"),
        }[kind]
        made.append((error_class, value, SampleEvent(event.key, event.record_type, datum)))
    now = int(time.time() * 1000)
    produce_records(
        bootstrap,
        topic,
        [(i % 3, e.key.encode(), value, [], now) for i, (_, value, e) in enumerate(made)],
    )
    return Counter(c for c, _, _ in made), [e for _, _, e in made]


@pytest.fixture(scope="module")
def filled(kafka_broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FilledDlq]:
    bootstrap = kafka_broker.bootstrap
    topics = TopicFactory(bootstrap)(partitions=3)
    assert topics.dlq is not None
    produced = produce_sample(bootstrap, topics.name, 500, seed=21, poison_share=0.12)
    expected: Counter[str] = Counter(
        expected_error_class(e.poison_kind, "single-object")  # type: ignore[arg-type]
        for e in produced.poison.values()
    )
    schema_dir = tmp_path_factory.mktemp("writer-schemas")
    crafted, crafted_events = _crafted_source_records(bootstrap, topics.name, schema_dir)
    expected.update(crafted)
    assert set(expected) == PIPELINE_CLASSES
    with aep_target() as target:
        env = consumer_env(bootstrap, topics, target, PROFILE_SYNC_AVRO_SCHEMA_DIR=str(schema_dir))
        run = subprocess.run(
            [PROFILE_SYNC, "run", "--exit-when-idle", "1"],
            env=clean_env(env),
            timeout=180,
            check=False,
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr[-2000:]
    events = list(produced.events.values())
    _craft_dead_letters(bootstrap, topics, events)
    events.extend(crafted_events)
    for error_class in set(ERROR_CLASSES) - PIPELINE_CLASSES:
        expected[error_class] += 2
    truth = [
        Truth(m.partition(), m.offset(), m.timestamp()[1], headers_of(m), m.key(), m.value())
        for m in read_all(bootstrap, topics.dlq)
    ]
    ops_env = {
        "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "PROFILE_SYNC_TOPIC": topics.name,
        "PROFILE_SYNC_DLQ_TOPIC": topics.dlq,
        "PROFILE_SYNC_LOG_LEVEL": "WARNING",
    }
    return FilledDlq(topics, ops_env, expected, events, truth)


def _list(filled: FilledDlq, *args: str) -> set[tuple[int, int]]:
    result = cli(filled.env, "dlq", "list", "--json", *args)
    assert result.exit_code == 0, result.stderr
    rows = json_lines(result.stdout)
    found = {(r["partition"], r["offset"]) for r in rows}
    assert len(found) == len(rows)
    return found


# ---- stats ----------------------------------------------------------------------------------


def test_the_topic_holds_every_class_of_the_registry(filled: FilledDlq) -> None:
    assert Counter(t.error_class for t in filled.truth) == filled.expected_classes
    assert set(filled.expected_classes) == set(ERROR_CLASSES)


def test_stats_count_exactly_by_class_stage_and_hour(filled: FilledDlq) -> None:
    result = cli(filled.env, "dlq", "stats", "--by", "class", "--json")
    assert result.exit_code == 0, result.stderr
    by_class = {row["value"]: row["count"] for row in json_lines(result.stdout)}
    assert by_class == dict(filled.expected_classes)

    by_stage: Counter[str] = Counter()
    for error_class, count in filled.expected_classes.items():
        by_stage[error_class.split(".")[0]] += count
    result = cli(filled.env, "dlq", "stats", "--by", "stage", "--json")
    rows = json_lines(result.stdout)
    assert {row["value"]: row["count"] for row in rows} == dict(by_stage)

    by_hour: Counter[str] = Counter(
        _ms_iso(t.timestamp_ms - t.timestamp_ms % HOUR_MS) for t in filled.truth
    )
    assert len(by_hour) >= 3
    result = cli(filled.env, "dlq", "stats", "--by", "hour", "--json")
    rows = json_lines(result.stdout)
    assert {row["value"]: row["count"] for row in rows} == dict(by_hour)
    assert [row["value"] for row in rows] == sorted(by_hour)
    for row in rows:
        in_hour = [
            t.timestamp_ms
            for t in filled.truth
            if _ms_iso(t.timestamp_ms - t.timestamp_ms % HOUR_MS) == row["value"]
        ]
        assert row["oldest"] == _ms_iso(min(in_hour))
        assert row["newest"] == _ms_iso(max(in_hour))


def test_stats_by_status_partition_and_event_type(filled: FilledDlq) -> None:
    rows = json_lines(cli(filled.env, "dlq", "stats", "--by", "status", "--json").stdout)
    counts = {row["value"]: row["count"] for row in rows}
    assert counts[400] == 2
    assert counts[413] == 2
    assert counts[None] == len(filled.truth) - 4
    rows = json_lines(cli(filled.env, "dlq", "stats", "--by", "partition", "--json").stdout)
    assert {row["value"]: row["count"] for row in rows} == dict(
        Counter(t.source[1] for t in filled.truth)
    )
    rows = json_lines(cli(filled.env, "dlq", "stats", "--by", "event_type", "--json").stdout)
    assert {row["value"]: row["count"] for row in rows} == dict(
        Counter(t.headers.get("profile_sync.event_type") for t in filled.truth)
    )


def test_stats_table_for_people(filled: FilledDlq) -> None:
    result = cli(filled.env, "dlq", "stats")
    assert result.exit_code == 0
    assert f"{len(filled.truth)} dead letters" in result.stdout
    for error_class in ERROR_CLASSES:
        assert error_class in result.stdout


# ---- filters --------------------------------------------------------------------------------


def test_each_filter_selects_exactly_the_right_records(filled: FilledDlq) -> None:
    truth = filled.truth
    assert _list(filled) == filled.select(lambda t: True)
    assert _list(filled, "--class", "decode.*") == filled.select(
        lambda t: t.error_class.startswith("decode.")
    )
    assert _list(filled, "--class", "map.invalid_email") == filled.select(
        lambda t: t.error_class == "map.invalid_email"
    )
    assert _list(filled, "--class", "*.*_too_large") == filled.select(
        lambda t: fnmatch.fnmatchcase(t.error_class, "*.*_too_large")
    )
    for stage in ("decode", "map", "validate", "deliver"):
        chosen = filled.select(lambda t, s=stage: t.headers["profile_sync.error.stage"] == s)
        assert chosen
        assert _list(filled, "--stage", stage) == chosen
    chosen = filled.select(lambda t: t.headers.get("profile_sync.event_type") == "CustomerUpdated")
    assert chosen
    assert _list(filled, "--event-type", "CustomerUpdated") == chosen
    # a decode failure has no customer header: the record key names the customer
    decode_failure = next(t for t in truth if t.error_class == "decode.unknown_magic")
    customer = decode_failure.customer
    assert customer is not None
    chosen = filled.select(lambda t: t.customer == customer)
    assert (decode_failure.partition, decode_failure.offset) in chosen
    assert _list(filled, "--customer", customer) == chosen
    chosen = filled.select(lambda t: t.source[1] == 1)
    assert chosen
    assert _list(filled, "--partition", "1") == chosen
    one = next(t for t in truth if t.source[1] == 2)
    assert _list(filled, "--partition", "2", "--source-offset", str(one.source[2])) == {
        (one.partition, one.offset)
    }
    # the crafted dead letters sit 3 and 2 hours back: a window holding only the older ones
    oldest = min(t.timestamp_ms for t in truth)
    since, until = _ms_iso(oldest - 60_000), _ms_iso(oldest + HOUR_MS // 2)
    chosen = filled.select(lambda t: oldest - 60_000 <= t.timestamp_ms < oldest + HOUR_MS // 2)
    assert 0 < len(chosen) < len(truth)
    assert _list(filled, "--since", since, "--until", until) == chosen
    assert _list(filled, "--since", "150m") == filled.select(
        lambda t: t.timestamp_ms >= time.time() * 1000 - 150 * 60_000
    )
    combined = filled.select(lambda t: t.error_class.startswith("decode.") and t.source[1] == 0)
    assert _list(filled, "--stage", "decode", "--partition", "0") == combined


def test_list_limit_and_table(filled: FilledDlq) -> None:
    assert len(_list(filled, "--limit", "5")) == 5
    result = cli(filled.env, "dlq", "list", "--class", "map.invalid_email")
    assert result.exit_code == 0
    assert result.stdout.count("map.invalid_email") == filled.expected_classes["map.invalid_email"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stage", "deliverr"], "not one of decode, map, validate, deliver"),
        (["--class", "decode.nothing*"], "matches no error class"),
        (["--since", "yesterday"], "neither an ISO-8601 time"),
        (["--since", "1h", "--until", "2h"], "--since must be before --until"),
        (["--partition", "-1"], "-1"),
    ],
)
def test_a_bad_filter_exits_2_with_a_message(
    filled: FilledDlq, args: list[str], message: str
) -> None:
    for command in ("stats", "list", "redrive"):
        result = cli(filled.env, "dlq", command, *args)
        assert result.exit_code == 2
        assert message in result.stderr
        assert result.stdout == ""


def test_a_missing_dead_letter_topic_exits_2_naming_it(filled: FilledDlq) -> None:
    env = {**filled.env, "PROFILE_SYNC_DLQ_TOPIC": "no.such.topic"}
    for args in (["stats"], ["list"], ["show", "0:0"], ["purge", "--before", "1h"]):
        result = cli(env, "dlq", *args)
        assert result.exit_code == 2
        assert "PROFILE_SYNC_DLQ_TOPIC: topic 'no.such.topic' does not exist" in result.stderr


# ---- show -----------------------------------------------------------------------------------


def _show(filled: FilledDlq, truth: Truth, *extra: str, env: dict[str, str] | None = None) -> Any:
    result = cli(env or filled.env, "dlq", "show", f"{truth.partition}:{truth.offset}", *extra)
    assert result.exit_code == 0, result.stderr
    return result


def test_show_decodes_a_single_object_value_masked_and_unmasked(filled: FilledDlq) -> None:
    truth = next(t for t in filled.truth if t.error_class == "map.invalid_email")
    doc = orjson.loads(_show(filled, truth, "--json").stdout)
    assert doc["value"]["decoded"] is True
    assert doc["value"]["wire_format"] == "single-object"
    customer = doc["value"]["event"]["customer"]
    assert str(customer["id"]) == truth.customer
    assert doc["value"]["event"]["event_id"]
    assert (doc["source_topic"], doc["source_partition"], doc["source_offset"]) == truth.source
    assert doc["class"] == "map.invalid_email"
    assert doc["stage"] == "map"
    assert doc["message"] == truth.headers["__connect.errors.exception.message"]
    assert doc["personal_data"] == "masked"
    assert customer["email"].endswith("***") or "***@" in customer["email"]

    unmasked = orjson.loads(_show(filled, truth, "--json", "--show-pii").stdout)
    raw = unmasked["value"]["event"]["customer"]
    assert raw["email"] != customer["email"]
    assert "***" not in raw["email"]
    if raw.get("firstname"):
        assert customer["firstname"] == raw["firstname"][0] + "***"
        assert raw["firstname"] in _show(filled, truth, "--show-pii").stdout

    table = _show(filled, truth).stdout
    assert "map.invalid_email" in table
    assert truth.source[0] in table
    assert raw["email"] not in table


def test_show_decodes_a_confluent_framed_value_through_the_registry(
    kafka_broker: Broker, make_topics: TopicFactory, schema_registry: Registry
) -> None:
    topics = make_topics(partitions=1)
    assert topics.dlq is not None
    event = next(e for e in generate_events(20, seed=3) if e.record_type == "CustomerCreated")
    encoder = EventEncoder(WriterSchemaRegistry.load(None))
    with ConfluentRegistryClient(schema_registry.url) as client:
        value = encoder.encode_confluent(event.record_type, event.datum, client, topic=topics.name)
    headers = _crafted_headers(
        topics.name, 0, 7, "validate.schema_violation", event, int(time.time() * 1000), {}
    )
    produce_records(
        kafka_broker.bootstrap,
        topics.dlq,
        [(0, event.key.encode(), value, headers, int(time.time() * 1000))],
    )
    env = {
        "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap,
        "PROFILE_SYNC_TOPIC": topics.name,
        "PROFILE_SYNC_DLQ_TOPIC": topics.dlq,
        "PROFILE_SYNC_SCHEMA_REGISTRY_URL": schema_registry.url,
    }
    result = cli(env, "dlq", "show", "0:0", "--json")
    assert result.exit_code == 0, result.stderr
    doc = orjson.loads(result.stdout)
    assert doc["value"]["decoded"] is True
    assert doc["value"]["wire_format"] == "confluent"
    assert doc["value"]["record_type"] == "CustomerCreated"
    email = event.datum["customer"]["email"]
    assert email not in result.stdout
    assert doc["value"]["event"]["customer"]["id"] == event.datum["customer"]["id"]
    shown = orjson.loads(cli(env, "dlq", "show", "0:0", "--json", "--show-pii").stdout)
    assert shown["value"]["event"]["customer"]["email"] == email
    # without the registry the same value does not decode, and says why
    env.pop("PROFILE_SYNC_SCHEMA_REGISTRY_URL")
    doc = orjson.loads(cli(env, "dlq", "show", "0:0", "--json").stdout)
    assert doc["value"]["decoded"] is False
    assert doc["value"]["reason"]["class"] == "decode.no_schema_registry"


def test_show_gives_the_reason_and_a_short_hex_preview_when_the_value_does_not_decode(
    filled: FilledDlq,
) -> None:
    for error_class in ("decode.unknown_magic", "decode.unknown_fingerprint", "decode.truncated"):
        truth = next(t for t in filled.truth if t.error_class == error_class)
        value = truth.value or b""
        doc = orjson.loads(_show(filled, truth, "--json").stdout)["value"]
        assert doc["decoded"] is False
        assert doc["reason"]["class"] == error_class
        assert doc["reason"]["message"]
        assert doc["size"] == len(value)
        assert doc["hex_preview"] == value[:10].hex(" ")
        doc = orjson.loads(_show(filled, truth, "--json", "--show-pii").stdout)["value"]
        assert doc["hex_preview"] == value[:64].hex(" ")
        assert doc["preview_bytes"] == min(len(value), 64)
    empty = next(t for t in filled.truth if t.error_class == "decode.empty_value")
    doc = orjson.loads(_show(filled, empty, "--json").stdout)["value"]
    assert doc["reason"]["class"] == "decode.empty_value"
    assert doc["hex_preview"] == ""


@pytest.mark.parametrize(
    ("coordinates", "message"),
    [
        ("0:99999999", "no dead letter there"),
        ("7:0", "has partitions 0 to 2"),
        ("zero:one", "is not PARTITION:OFFSET"),
    ],
)
def test_show_an_unknown_coordinate_exits_2(
    filled: FilledDlq, coordinates: str, message: str
) -> None:
    result = cli(filled.env, "dlq", "show", coordinates)
    assert result.exit_code == 2
    assert message in result.stderr


def _telling(text: str) -> bool:
    """Long enough to mean something; digits alone (postcodes) also turn up inside offsets and
    times by chance."""
    return len(text) > 1 and not text.isdigit()


def _personal_strings(value: Any, name: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            found |= _personal_strings(v, k)
    elif isinstance(value, list):
        for v in value:
            found |= _personal_strings(v, name)
    elif isinstance(value, str) and name in PERSONAL_FIELDS and _telling(value.strip()):
        found.add(value.strip())
    return found


def test_no_output_holds_personal_data_without_show_pii(filled: FilledDlq) -> None:
    personal: set[str] = set()
    for event in filled.events:
        personal |= _personal_strings(event.datum)
    assert len(personal) > 500
    outputs = []
    for by in ("class", "stage", "event_type", "status", "hour", "partition"):
        outputs.append(cli(filled.env, "dlq", "stats", "--by", by).stdout)
        outputs.append(cli(filled.env, "dlq", "stats", "--by", by, "--json").stdout)
    outputs.append(cli(filled.env, "dlq", "list").stdout)
    outputs.append(cli(filled.env, "dlq", "list", "--json").stdout)
    outputs.append(cli(filled.env, "dlq", "redrive").stdout)
    decodable = 0
    for truth in filled.truth:
        for extra in ((), ("--json",)):
            result = _show(filled, truth, *extra)
            outputs.append(result.stdout + result.stderr)
            decodable += '"decoded":true' in result.stdout
    assert decodable > 20
    text = "\n".join(outputs)
    leaked = sorted(p for p in personal if p in text)
    assert not leaked, leaked[:5]
    # and the flag does show them
    shown = "".join(
        _show(filled, t, "--json", "--show-pii").stdout
        for t in filled.truth
        if t.error_class == "map.invalid_email"
    )
    assert sum(p in shown for p in personal) > 10


# ---- redrive ----------------------------------------------------------------------------------


def _replay_topic(filled: FilledDlq, bootstrap: str) -> tuple[str, dict[str, str]]:
    name = create_topic(bootstrap, f"{filled.topics.name}.replay-{uuid.uuid4().hex[:6]}", 3)
    return name, {**filled.env, "PROFILE_SYNC_REPLAY_TOPIC": name}


def _check_redriven(
    filled: FilledDlq,
    bootstrap: str,
    replay_topic: str,
    chosen: set[tuple[int, int]],
    redrive_id: str,
) -> None:
    by_coords = {(t.partition, t.offset): t for t in filled.truth}
    written = read_all(bootstrap, replay_topic)
    assert len(written) == len(chosen)
    sources = set()
    for message in written:
        headers = headers_of(message)
        source = (
            headers["profile_sync.source.topic"],
            int(headers["profile_sync.source.partition"]),
            int(headers["profile_sync.source.offset"]),
        )
        sources.add(source)
        assert headers["profile_sync.redrive.id"] == redrive_id
        assert message.partition() == source[1]
        truth = next(by_coords[c] for c in chosen if by_coords[c].source == source)
        assert message.key() == truth.key
        assert message.value() == truth.value
        assert headers["profile_sync.attempts"] == truth.headers["profile_sync.attempts"]
        # the source record's own headers come along; the dead letter's error headers do not
        originals = [
            k for k, _ in truth.headers.items() if not k.startswith(("__connect", "profile_sync"))
        ]
        names = [k for k, _ in message.headers() or []]
        assert names[: len(originals)] == originals
        assert not any(
            n.startswith("__connect") or n.startswith("profile_sync.error") for n in names
        )
    assert sources == {by_coords[c].source for c in chosen}


def test_redrive_dry_run_counts_by_class_and_writes_nothing(
    filled: FilledDlq, kafka_broker: Broker
) -> None:
    replay_topic, env = _replay_topic(filled, kafka_broker.bootstrap)
    result = cli(env, "dlq", "redrive", "--class", "decode.*", "--json")
    assert result.exit_code == 0, result.stderr
    rows = json_lines(result.stdout)
    assert {r["class"]: r["records"] for r in rows} == {
        c: n for c, n in filled.expected_classes.items() if c.startswith("decode.")
    }
    assert all(r["written"] == 0 and r["executed"] is False for r in rows)
    assert read_all(kafka_broker.bootstrap, replay_topic) == []
    table = cli(env, "dlq", "redrive", "--stage", "map").stdout
    assert "dry run" in table
    assert "map.invalid_email" in table


def test_redrive_execute_writes_exactly_the_selection(
    filled: FilledDlq, kafka_broker: Broker
) -> None:
    replay_topic, env = _replay_topic(filled, kafka_broker.bootstrap)
    result = cli(
        env, "dlq", "redrive", "--stage", "validate", "--execute", "--rate", "200", "--json"
    )
    assert result.exit_code == 0, result.stderr
    rows = json_lines(result.stdout)
    assert all(r["records"] == r["written"] and r["executed"] for r in rows)
    chosen = filled.select(lambda t: t.headers["profile_sync.error.stage"] == "validate")
    assert sum(r["written"] for r in rows) == len(chosen) > 0
    _check_redriven(filled, kafka_broker.bootstrap, replay_topic, chosen, rows[0]["redrive_id"])


def test_list_json_through_jq_into_redrive_from_stdin(
    filled: FilledDlq, kafka_broker: Broker
) -> None:
    jq = shutil.which("jq")
    assert jq is not None, "jq is needed (apt-get install jq)"
    replay_topic, env = _replay_topic(filled, kafka_broker.bootstrap)
    pipeline = (
        f"{PROFILE_SYNC} dlq list --json --stage decode"
        f" | {jq} -c 'select(.class == \"decode.unknown_magic\" or .source_partition == 2)'"
        f" | {PROFILE_SYNC} dlq redrive --from-file - --execute --json"
    )
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", pipeline],
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    chosen = filled.select(
        lambda t: (
            t.headers["profile_sync.error.stage"] == "decode"
            and (t.error_class == "decode.unknown_magic" or t.source[1] == 2)
        )
    )
    rows = json_lines(result.stdout)
    assert sum(r["written"] for r in rows) == len(chosen) > 0
    _check_redriven(filled, kafka_broker.bootstrap, replay_topic, chosen, rows[0]["redrive_id"])


def test_redrive_refuses_bad_input_with_exit_2(filled: FilledDlq, kafka_broker: Broker) -> None:
    replay_topic, env = _replay_topic(filled, kafka_broker.bootstrap)
    result = cli(env, "dlq", "redrive", "--from-file", "-", stdin="not json\n")
    assert result.exit_code == 2
    assert "line 1: not JSON" in result.stderr
    result = cli(
        env, "dlq", "redrive", "--from-file", "-", stdin='{"partition": 0, "offset": 99999}\n'
    )
    assert result.exit_code == 2
    assert "0:99999 is not in" in result.stderr
    missing = {**filled.env, "PROFILE_SYNC_REPLAY_TOPIC": "no.such.replay"}
    result = cli(missing, "dlq", "redrive", "--execute")
    assert result.exit_code == 2
    assert "PROFILE_SYNC_REPLAY_TOPIC: topic 'no.such.replay' does not exist" in result.stderr
    assert read_all(kafka_broker.bootstrap, replay_topic) == []


# ---- purge ----------------------------------------------------------------------------------


def test_purge_before_removes_exactly_the_older_records_and_the_dry_run_nothing(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    bootstrap = kafka_broker.bootstrap
    topics = make_topics(partitions=2)
    assert topics.dlq is not None
    now = int(time.time() * 1000)
    event = next(iter(generate_events(1, seed=5)))
    records = []
    for age_min in (200, 180, 150, 130, 100, 61, 59, 30, 10, 1):
        at = now - age_min * 60_000
        headers = _crafted_headers(topics.name, 0, age_min, "decode.truncated", event, at, {})
        records.append((age_min % 2, b"1", b"\x00", headers, at))
    written = produce_records(bootstrap, topics.dlq, records)
    env = {
        "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "PROFILE_SYNC_DLQ_TOPIC": topics.dlq,
    }
    older = [w for w in written if w.timestamp_ms < now - 60 * 60_000]
    assert len(older) == 6
    before = _ms_iso(now - 60 * 60_000)

    result = cli(env, "dlq", "purge", "--before", before, "--json")
    assert result.exit_code == 0, result.stderr
    rows = json_lines(result.stdout)
    assert sum(r["records"] for r in rows) == len(older)
    assert all(r["executed"] is False for r in rows)
    assert len(read_all(bootstrap, topics.dlq)) == len(written)

    result = cli(env, "dlq", "purge", "--before", before, "--execute")
    assert result.exit_code == 0, result.stderr
    assert f"deleted {len(older)} dead letters" in result.stdout
    left = {(m.partition(), m.offset()) for m in read_all(bootstrap, topics.dlq)}
    assert left == {(w.partition, w.offset) for w in written if w not in older}

    # up to an offset: Kafka's deleteRecords semantics, the offset itself stays
    last = max(w.offset for w in written if w.partition == 1)
    result = cli(env, "dlq", "purge", "--to-offset", f"1:{last}", "--execute", "--json")
    assert result.exit_code == 0, result.stderr
    [row] = json_lines(result.stdout)
    assert row["first_offset_now"] == last
    left = {(m.partition(), m.offset()) for m in read_all(bootstrap, topics.dlq)}
    assert (1, last) in left
    assert all(o >= last for p, o in left if p == 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to-offset", "5:0"], "has partitions 0 to 1"),
        (["--to-offset", "0:999"], "beyond the end"),
        (["--to-offset", "zero"], "not --to-offset P:O"),
        (["--before", "soon"], "neither an ISO-8601"),
        ([], "exactly one of --before TIME and --to-offset P:O"),
    ],
)
def test_purge_refuses_bad_input_with_exit_2(
    kafka_broker: Broker, make_topics: TopicFactory, args: list[str], message: str
) -> None:
    topics = make_topics(partitions=2)
    assert topics.dlq is not None
    env = {
        "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap,
        "PROFILE_SYNC_DLQ_TOPIC": topics.dlq,
    }
    result = cli(env, "dlq", "purge", *args)
    assert result.exit_code == 2
    assert message in result.stderr
