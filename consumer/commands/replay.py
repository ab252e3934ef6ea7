"""`profile-sync replay`: copy a time window of the source topic into the replay topic.

A dry run unless `--execute`: per partition the offset range and record count. Exit 0 done,
1 error, 2 usage (bad TIME, unknown partition, missing topic).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from consumer.config import exit_codes
from consumer.config.loading import load
from consumer.config.settings import KafkaSettings, variable
from consumer.operations import kafka_io, output, replay
from consumer.operations.errors import OperationError, usage
from consumer.operations.pacing import Pacer
from consumer.operations.progress import progress
from consumer.operations.times import iso_millis, to_millis

COLUMNS = ("partition", "start_offset", "end_offset", "records", "copied")


def run_replay(
    config_file: Path | None,
    window: replay.Window,
    *,
    execute: bool,
    rate: float | None,
    as_json: bool,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    settings = load(config_file, KafkaSettings)
    replay_topic = settings.replay_topic
    consumer = kafka_io.reader(settings)
    producer = kafka_io.writer(settings) if execute else None
    try:
        partitions = kafka_io.partition_count(consumer, settings.topic, variable("topic"))
        replay_partitions = kafka_io.partition_count(
            consumer, replay_topic, variable("replay_topic")
        )
        if replay_partitions != partitions:
            raise usage(
                f"{variable('replay_topic')}: topic {replay_topic!r} has {replay_partitions} "
                f"partitions, the source topic {settings.topic!r} has {partitions}"
            )
        spans = replay.resolve(consumer, settings.topic, partitions, window)
        replay_id = replay.new_id()
        total = sum(s.size for s in spans)
        if producer is None:
            with progress("replay (counting)", total, stream=err, plain_lines=False) as advance:
                reports = replay.count(consumer, settings.topic, spans, window, advance)
        else:
            with progress(f"replay {replay_id}", total, stream=err) as advance:
                copier = replay.Copier(
                    consumer, producer, settings.topic, replay_topic, replay_id, Pacer(rate)
                )
                reports = copier.copy(spans, window, advance)
    except OperationError as exc:
        print(f"profile-sync replay: {exc}", file=err)
        return exc.exit_code
    finally:
        consumer.close()
    rows = [r.as_json(replay_id if execute else None, execute) for r in reports]
    if as_json:
        for row in rows:
            output.json_line(row, out)
        return exit_codes.OK
    until = iso_millis(to_millis(window.end)) if window.end else "now"
    verb = "copied into" if execute else "dry run, nothing written; --execute copies into"
    start = iso_millis(to_millis(window.start))
    title = f"{settings.topic} from {start} to {until} ({verb} {replay_topic})"
    console = output.console(out)
    output.print_table(console, rows, COLUMNS if execute else COLUMNS[:4], title)
    records = sum(r.records for r in reports)
    copied = sum(r.copied for r in reports)
    if execute:
        console.print(f"{copied} of {records} records copied; replay id {replay_id}")
    else:
        console.print(f"{records} records")
    return exit_codes.OK
