"""What the operator commands print: rich tables for people, JSON lines with `--json`.

Both forms carry the same fields under the same names, so a table column and a JSON key always
mean the same thing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Final, TextIO

import orjson
from rich.console import Console
from rich.table import Table

# A table written to a pipe or file is not wrapped at 80 columns.
_PIPE_WIDTH: Final = 200


def console(stream: TextIO | None = None) -> Console:
    out = stream or sys.stdout
    return Console(file=out, width=None if out.isatty() else _PIPE_WIDTH, highlight=False)


def json_line(obj: dict[str, Any], stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    out.write(orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Table:
    grid = Table(show_lines=False)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*(_cell(row.get(column)) for column in columns))
    return grid


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json_text(value)
    return str(value)


def print_table(
    console: Console, rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str
) -> None:
    """A title line (never wrapped to the table's width), then the table."""
    console.print(title, soft_wrap=True)
    console.print(table(rows, columns))


def json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
