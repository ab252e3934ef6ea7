"""The `property=` list filter shared by Schema Registry, Catalog and Flow Service.

Grammar (docs/AEP.md §3.5, §4.3, §2.10): `path==v`, `path!=v`, `path<v`, `path>v`, `path<=v`,
`path>=v`, `path~regex`, `path` (exists), `!path` (absent). Paths are dotted; a `[]` suffix
or an array on the way means "any element" (Flow Service's array paths).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Longest operators first so that `<=` is not read as `<`.
_OPERATORS = ("==", "!=", "<=", ">=", "~", "<", ">")
_MISSING = object()


@dataclass(frozen=True)
class PropertyFilter:
    path: str
    op: str | None  # None: existence test
    value: str = ""
    absent: bool = False  # `!path`

    def matches(self, resource: Mapping[str, Any]) -> bool:
        found = values_at(resource, self.path)
        if self.op is None:
            return not found if self.absent else bool(found)
        if self.op == "!=":
            return all(not _compare(v, "==", self.value) for v in found)
        return any(_compare(v, self.op, self.value) for v in found)


def parse_property(expression: str) -> PropertyFilter:
    """Parse one `property=` value; raises ValueError on an empty path or a bad regex."""
    first: tuple[int, str] | None = None
    for op in _OPERATORS:
        index = expression.find(op)
        if index > 0 and (first is None or index < first[0]):
            first = (index, op)
    if first is None:
        absent = expression.startswith("!")
        path = expression[1:] if absent else expression
        if not path:
            raise ValueError("empty property filter")
        return PropertyFilter(path=path, op=None, absent=absent)
    index, op = first
    # At the same index a two-character operator wins over its one-character prefix.
    for longer in ("<=", ">="):
        if op == longer[0] and expression.startswith(longer, index):
            op = longer
    value = expression[index + len(op) :]
    if op == "~":
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"bad regular expression: {error.msg}") from None
    return PropertyFilter(path=expression[:index], op=op, value=value)


def parse_all(expressions: Iterable[str]) -> list[PropertyFilter]:
    return [parse_property(e) for e in expressions]


def matches_all(resource: Mapping[str, Any], filters: Iterable[PropertyFilter]) -> bool:
    return all(f.matches(resource) for f in filters)


def values_at(resource: Any, path: str) -> list[Any]:
    """Every value at a dotted path, fanning out over arrays."""
    current: list[Any] = [resource]
    for raw in path.split("."):
        key = raw.removesuffix("[]")
        nxt: list[Any] = []
        for item in current:
            value = item.get(key, _MISSING) if isinstance(item, Mapping) else _MISSING
            if value is _MISSING or value is None:
                continue
            if isinstance(value, list):
                nxt.extend(value)
            else:
                nxt.append(value)
        current = nxt
    return current


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ordered(value: str) -> tuple[int, tuple[float, ...] | str]:
    """Sort key: numbers and dotted versions (1.0.3) numerically, anything else as text."""
    try:
        return (0, tuple(float(part) for part in value.split(".")))
    except ValueError:
        return (1, value)


def _compare(actual: Any, op: str, expected: str) -> bool:
    text = _text(actual)
    if op == "==":
        return text == expected
    if op == "~":
        return re.search(expected, text) is not None
    left, right = _ordered(text), _ordered(expected)
    if left[0] != right[0]:
        return False
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    return left >= right
