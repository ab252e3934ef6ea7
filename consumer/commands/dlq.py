"""`profile-sync dlq stats|list|show|redrive|purge`: the dead-letter topic for operators.

Reads with a consumer that joins no group and commits nothing, up to the end offsets taken at
start. Tables for people, JSON lines with `--json`. Exit 0 done, 1 error, 2 usage or
configuration (bad filter, missing topic, unknown PARTITION:OFFSET).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from confluent_kafka import Consumer

from consumer.config import exit_codes
from consumer.config.loading import load, load_all
from consumer.config.settings import AvroSettings, KafkaSettings, variable
from consumer.operations import dead_letter_ops as ops
from consumer.operations import inspect, kafka_io, output
from consumer.operations.dead_letter_view import view_of
from consumer.operations.errors import OperationError
from consumer.operations.filters import Filters
from consumer.operations.pacing import Pacer
from consumer.operations.progress import progress
from schemas.avro import ConfluentRegistryClient, EventDecoder, WriterSchemaRegistry

LIST_COLUMNS = (
    "partition",
    "offset",
    "time",
    "source_partition",
    "source_offset",
    "stage",
    "class",
    "event_type",
    "customer_id",
    "attempts",
)


@dataclass(frozen=True, slots=True)
class Io:
    as_json: bool
    stdout: TextIO
    stderr: TextIO


def io(as_json: bool, stdout: TextIO | None = None, stderr: TextIO | None = None) -> Io:
    return Io(as_json, stdout or sys.stdout, stderr or sys.stderr)


@dataclass
class _Topic:
    settings: KafkaSettings
    consumer: Consumer
    partitions: int

    @property
    def name(self) -> str:
        return self.settings.dlq_topic


@contextmanager
def _dead_letter_topic(config_file: Path | None) -> Iterator[_Topic]:
    settings = load(config_file, KafkaSettings)
    consumer = kafka_io.reader(settings)
    try:
        partitions = kafka_io.partition_count(consumer, settings.dlq_topic, variable("dlq_topic"))
        yield _Topic(settings, consumer, partitions)
    finally:
        consumer.close()


def _guarded(command: str, io: Io, body: Callable[[], int]) -> int:
    try:
        return body()
    except OperationError as exc:
        print(f"profile-sync dlq {command}: {exc}", file=io.stderr)
        return exc.exit_code


def _read(topic: _Topic, filters: Filters, io: Io) -> Iterator[list[Any]]:
    spans = kafka_io.whole(topic.consumer, topic.name, topic.partitions)
    total = sum(s.size for s in spans)
    with progress(f"reading {topic.name}", total, stream=io.stderr, plain_lines=False) as advance:
        yield from ops.scan(topic.consumer, topic.name, spans, filters, advance)


def run_stats(config_file: Path | None, filters: Filters, by: str, io: Io) -> int:
    def body() -> int:
        filters.check()
        with _dead_letter_topic(config_file) as topic:
            groups = ops.stats(_read(topic, filters, io), by)
        rows = [g.as_json(by) for g in groups]
        if io.as_json:
            for row in rows:
                output.json_line(row, io.stdout)
        else:
            total = sum(g.count for g in groups)
            title = f"{total} dead letters in {topic.name} by {by}"
            output.print_table(
                output.console(io.stdout), rows, ("value", "count", "oldest", "newest"), title
            )
        return exit_codes.OK

    return _guarded("stats", io, body)


def run_list(config_file: Path | None, filters: Filters, limit: int | None, io: Io) -> int:
    def body() -> int:
        filters.check()
        shown = 0
        with _dead_letter_topic(config_file) as topic:
            console = None if io.as_json else output.console(io.stdout)
            for batch in _read(topic, filters, io):
                rows = [view.summary() for view in batch]
                if limit is not None:
                    rows = rows[: limit - shown]
                shown += len(rows)
                if console is None:
                    for row in rows:
                        output.json_line(row, io.stdout)
                    io.stdout.flush()
                elif rows:
                    # One table per batch: nothing but the batch is held in memory.
                    console.print(output.table(rows, LIST_COLUMNS))
                if limit is not None and shown >= limit:
                    break
        if console is not None:
            console.print(f"{shown} dead letters")
        return exit_codes.OK

    return _guarded("list", io, body)


@contextmanager
def _decoder(avro: AvroSettings) -> Iterator[EventDecoder]:
    confluent = (
        ConfluentRegistryClient(str(avro.schema_registry_url))
        if avro.schema_registry_url is not None
        else None
    )
    try:
        yield EventDecoder(WriterSchemaRegistry.load(avro.avro_schema_dir), confluent)
    finally:
        if confluent is not None:
            confluent.close()


def run_show(config_file: Path | None, coordinates: str, show_pii: bool, io: Io) -> int:
    def body() -> int:
        partition, offset = ops.parse_coordinates(coordinates)
        (avro,) = load_all(config_file, AvroSettings)
        with _dead_letter_topic(config_file) as topic:
            message = ops.fetch(topic.consumer, topic.name, topic.partitions, partition, offset)
        with _decoder(avro) as decoder:
            doc = inspect.document(view_of(message), decoder, show_pii)
        if io.as_json:
            output.json_line(doc, io.stdout)
        else:
            _print_document(doc, topic.name, io.stdout)
        return exit_codes.OK

    return _guarded("show", io, body)


def _print_document(doc: dict[str, Any], topic: str, stream: TextIO) -> None:
    console = output.console(stream)
    console.print(f"[bold]{topic} {doc['partition']}:{doc['offset']}[/bold]")
    rows = [{"field": k, "value": v} for k, v in doc.items() if k not in {"detail", "value"}]
    rows.append({"field": "detail", "value": output.json_text(doc["detail"])})
    console.print(output.table(rows, ("field", "value")))
    console.print("[bold]value[/bold]")
    console.print_json(output.json_text(doc["value"]))


def run_redrive(
    config_file: Path | None,
    filters: Filters,
    *,
    execute: bool,
    rate: float | None,
    selection: TextIO | None,
    io: Io,
) -> int:
    def body() -> int:
        filters.check()
        chosen = ops.read_selection(selection) if selection is not None else None
        with _dead_letter_topic(config_file) as topic:
            replay_topic = topic.settings.replay_topic
            replay_partitions = kafka_io.partition_count(
                topic.consumer, replay_topic, variable("replay_topic")
            )
            if chosen is None:
                spans = kafka_io.whole(topic.consumer, topic.name, topic.partitions)
            else:
                spans = ops.selection_spans(topic.consumer, topic.name, topic.partitions, chosen)
            producer = kafka_io.writer(topic.settings) if execute else None
            redrive = ops.Redrive(
                replay_topic, replay_partitions, ops.new_id(), producer, Pacer(rate)
            )
            total = sum(s.size for s in spans)
            label = f"redrive {redrive.redrive_id}" if execute else f"reading {topic.name}"
            with progress(label, total, stream=io.stderr, plain_lines=False) as advance:
                for batch in ops.scan(topic.consumer, topic.name, spans, filters, advance):
                    for view in batch:
                        if chosen is None or view.offset in chosen.get(view.partition, ()):
                            redrive.take(view)
            counts = redrive.finish()
        _print_counts(counts, redrive.redrive_id, execute, replay_topic, io)
        return exit_codes.OK

    return _guarded("redrive", io, body)


def _print_counts(
    counts: list[ops.RedriveCount], redrive_id: str, execute: bool, replay_topic: str, io: Io
) -> None:
    rows = [c.as_json(redrive_id if execute else None, execute) for c in counts]
    if io.as_json:
        for row in rows:
            output.json_line(row, io.stdout)
        return
    records = sum(c.records for c in counts)
    if execute:
        written = sum(c.written for c in counts)
        title = f"{written} of {records} dead letters written into {replay_topic}"
        columns: tuple[str, ...] = ("class", "records", "written")
    else:
        title = f"dry run: {records} dead letters would go into {replay_topic} (--execute writes)"
        columns = ("class", "records")
    console = output.console(io.stdout)
    output.print_table(console, rows, columns, title)
    if execute:
        console.print(f"redrive id {redrive_id}")


def run_purge(
    config_file: Path | None,
    *,
    before: datetime | None,
    to_offset: str | None,
    execute: bool,
    io: Io,
) -> int:
    def body() -> int:
        with _dead_letter_topic(config_file) as topic:
            if before is not None:
                spans = ops.purge_before(
                    topic.consumer, topic.name, topic.partitions, int(before.timestamp() * 1000)
                )
            else:
                assert to_offset is not None
                partition, offset = ops.parse_coordinates(to_offset, "--to-offset P:O")
                spans = ops.purge_to(
                    topic.consumer, topic.name, topic.partitions, partition, offset
                )
            deleted = (
                ops.delete(kafka_io.admin(topic.settings), topic.name, spans) if execute else {}
            )
        rows = []
        for span in spans:
            row = span.as_json(execute)
            if execute:
                row["first_offset_now"] = deleted.get(span.partition, span.low)
            rows.append(row)
        if io.as_json:
            for row in rows:
                output.json_line(row, io.stdout)
            return exit_codes.OK
        records = sum(s.records for s in spans)
        title = (
            f"deleted {records} dead letters from {topic.name}"
            if execute
            else f"dry run: {records} dead letters would be deleted from {topic.name} "
            "(--execute deletes)"
        )
        columns = ["partition", "first_offset", "delete_before_offset", "records"]
        if execute:
            columns.append("first_offset_now")
        output.print_table(output.console(io.stdout), rows, columns, title)
        return exit_codes.OK

    return _guarded("purge", io, body)
