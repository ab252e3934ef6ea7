"""Records read from the replay topic (docs/DESIGN.md §12): their provenance headers say where
they really come from.

`replay` and `dlq redrive` write them (schemas/replay_headers.py). `run` reads the headers once,
when the record is polled, and takes them off: the record then looks like the source record it
copies, and what it is a copy of lives in `SourceRecord.replay` (the ordering key's offset, a dead
letter's `__connect.errors.*` coordinates, the redrive id and the attempts so far).
"""

from __future__ import annotations

from collections.abc import Sequence

from consumer.pipeline.record import Header, Replay
from schemas import replay_headers

_TAKEN = replay_headers.PROVENANCE | {replay_headers.ATTEMPTS}


def _text(value: bytes | None) -> str | None:
    if value is None:
        return None
    try:
        return value.decode()
    except UnicodeDecodeError:
        return None


def _number(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number >= 0 else None


def read_provenance(headers: Sequence[Header] | None) -> tuple[Replay, list[Header]]:
    """The provenance of a replayed record and its headers without it (the source record's own
    headers, in order). The last value of a repeated header wins."""
    found: dict[str, str | None] = {}
    rest: list[Header] = []
    for name, value in headers or ():
        if name in _TAKEN:
            found[name] = _text(value)
        else:
            rest.append((name, value))
    topic = found.get(replay_headers.SOURCE_TOPIC)
    partition = _number(found.get(replay_headers.SOURCE_PARTITION))
    offset = _number(found.get(replay_headers.SOURCE_OFFSET))
    source = None
    if topic and partition is not None and offset is not None:
        source = (topic, partition, offset)
    replay = Replay(
        source,
        replay_id=found.get(replay_headers.REPLAY_ID),
        redrive_id=found.get(replay_headers.REDRIVE_ID),
        attempts=_number(found.get(replay_headers.ATTEMPTS)),
    )
    return replay, rest
