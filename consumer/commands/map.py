"""`profile-sync map [FILE|-]`: contract JSON lines in, one result line per input line out.

Every non-blank input line yields exactly one output line, in input order:
`{"operation": "upsert", "record": {...}}`, `{"operation": "delete", "record": {...}}` or
`{"error": {"class": "...", "message": "...", "fields": [...]}}`. A record is mapped, then
checked with the same XDM validator and 100 KB record limit the consumer applies, so what this
command prints is what `run` would send. Exit 0 when every line mapped, 1 when any error line was
printed, 2 on a usage or I/O error. Messages never carry input values (personal data).
"""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any, Final, TextIO

import orjson

from consumer.config import exit_codes
from mappers import Delete, MapFailure, Mapper, MapperOptions, Upsert
from mappers import notes as map_notes
from schemas.limits import RECORD_LIMIT, entity_size
from schemas.xdm import Validator, compile_validator

SCHEMA_VIOLATION: Final = "validate.schema_violation"
RECORD_TOO_LARGE: Final = "validate.record_too_large"
_BOM: Final = "\ufeff"


class LineMapper:
    """One input line -> one output object (and the outcome names it counts)."""

    def __init__(self, options: MapperOptions) -> None:
        self._mapper = Mapper(options)
        self._validator: Validator = compile_validator(options.xdm)

    def map_line(self, line: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        try:
            parsed = orjson.loads(line)
        except orjson.JSONDecodeError:
            return _error(map_notes.INVALID_JSON, "line is not valid UTF-8 JSON", ()), ()
        if not isinstance(parsed, dict):
            return _error(map_notes.INVALID_JSON, "line is not a JSON object", ()), ()
        record_type = parsed.get("type")
        if not isinstance(record_type, str):
            return _error(map_notes.UNKNOWN_RECORD_TYPE, "type is missing", ("type",)), ()
        event = parsed.get("event")
        if not isinstance(event, dict):
            return _error(map_notes.INVALID_EVENT, "event is not an object", ("event",)), ()
        result = self._mapper.map(record_type, event)
        if isinstance(result, MapFailure):
            fields = ("type",) if result.error_class == map_notes.UNKNOWN_RECORD_TYPE else ()
            return _error(result.error_class, result.message, result.fields or fields), ()
        operation = "delete" if isinstance(result, Delete) else "upsert"
        violations = self._validator.validate(result.record)
        if violations:
            # Pointers name XDM fields, never values.
            rules = "; ".join(f"{v.pointer or '/'}: {v.rule}" for v in violations[:10])
            return _error(SCHEMA_VIOLATION, f"record fails the XDM schema: {rules}", ()), ()
        size = entity_size(result.record)
        if size > RECORD_LIMIT:
            message = f"record is {size} bytes, more than the {RECORD_LIMIT} byte limit"
            return _error(RECORD_TOO_LARGE, message, ()), ()
        notes = result.notes if isinstance(result, Upsert) else ()
        return {"operation": operation, "record": result.record}, notes


def _error(error_class: str, message: str, fields: tuple[str, ...]) -> dict[str, Any]:
    return {"error": {"class": error_class, "message": message, "fields": list(fields)}}


def _writer(out: TextIO) -> Callable[[bytes], object]:
    # orjson writes UTF-8 bytes; write them as such whatever the locale says about stdout.
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()
        return buffer.write  # type: ignore[no-any-return]
    return lambda data: out.write(data.decode("utf-8"))


def run_map(source: TextIO, out: TextIO, options: MapperOptions, err: TextIO | None = None) -> int:
    """Map every line of `source` to `out`; the exit code of `profile-sync map`."""
    err = err if err is not None else sys.stderr
    reconfigure = getattr(source, "reconfigure", None)
    if reconfigure is not None:
        # A line that is not UTF-8 is an unparsable line (an error line), not an I/O error.
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="surrogateescape")
    line_mapper = LineMapper(options)
    write = _writer(out)
    counts: Counter[str] = Counter()
    try:
        for number, line in enumerate(source):
            if number == 0 and line.startswith(_BOM):
                # Editors on Windows start UTF-8 files with a byte-order mark.
                line = line[1:]
            if not line.strip():
                continue
            result, notes = line_mapper.map_line(line)
            counts[_outcome(result)] += 1
            counts.update(notes)
            write(orjson.dumps(result, option=orjson.OPT_APPEND_NEWLINE))
        flush = getattr(getattr(out, "buffer", out), "flush", None)
        if flush is not None:
            flush()
    except (OSError, UnicodeDecodeError) as error:
        err.write(f"profile-sync map: I/O error: {type(error).__name__}\n")
        return exit_codes.USAGE_ERROR
    summary = ", ".join(f"{name}={count}" for name, count in sorted(counts.items()))
    err.write(f"profile-sync map: {summary or 'no input lines'}\n")
    return exit_codes.ERROR if counts["error"] else exit_codes.OK


def _outcome(result: dict[str, Any]) -> str:
    if "error" in result:
        return "error"
    return str(result["operation"])
