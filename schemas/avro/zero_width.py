"""Refusal of writer schemas whose arrays can hold items that take no bytes.

An array is read as block counts followed by that many items. When an item takes no bytes
(`null`, a `fixed` of size 0, a record whose fields all take none), a message of ten bytes can
announce 2**62 items and the reader allocates without bound, with nothing in the input to run out
of. Such a writer schema is refused before any message is read with it. Maps are safe: every map
entry carries its key, a string of at least one byte, so a huge count runs out of input at once.
"""

from __future__ import annotations

from typing import Any, Final

_PRIMITIVE_WIDTHLESS: Final = frozenset({"null"})
_PRIMITIVES: Final = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)


class ZeroWidthItemsError(ValueError):
    """The schema has an array whose items take no bytes; `path` names where (field names only)."""

    def __init__(self, path: str) -> None:
        where = f"field {path}" if path else "the top level"
        super().__init__(f"the array at {where} has items that take no bytes")
        self.path = path


def check_no_zero_width_items(parsed: Any) -> None:
    """Raise ZeroWidthItemsError for the first array (at any depth) whose items take no bytes.

    `parsed` is fastavro's parsed form: named types are defined once, then referenced by their
    full name, and listed in its `__named_schemas`.
    """
    named: dict[str, Any] = parsed.get("__named_schemas", {}) if isinstance(parsed, dict) else {}
    _Walker(named).walk(parsed, "")


class _Walker:
    def __init__(self, named: dict[str, Any]) -> None:
        self._named = named
        self._walked: set[str] = set()
        self._widths: dict[str, bool] = {}

    def walk(self, node: Any, path: str) -> None:
        if isinstance(node, str):
            if node in self._named and node not in self._walked:
                self._walked.add(node)
                self.walk(self._named[node], path)
            return
        if isinstance(node, list):
            for branch in node:
                self.walk(branch, path)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind in ("record", "error"):
            name = node.get("name")
            if isinstance(name, str):
                self._walked.add(name)  # later uses of the type are its full name
            for field in node.get("fields", ()):
                name = str(field.get("name"))
                self.walk(field.get("type"), f"{path}.{name}" if path else name)
        elif kind == "array":
            items = node.get("items")
            if self.zero_width(items):
                raise ZeroWidthItemsError(path)
            self.walk(items, f"{path}[]")
        elif kind == "map":
            self.walk(node.get("values"), f"{path}{{}}")
        else:
            self.walk(kind, path)

    def zero_width(self, node: Any, visiting: frozenset[str] = frozenset()) -> bool:
        """True when every value of `node` is encoded in no bytes at all."""
        if isinstance(node, str):
            if node in _PRIMITIVES:
                return node in _PRIMITIVE_WIDTHLESS
            if node in self._widths:
                return self._widths[node]
            if node in visiting or node not in self._named:
                # A type that contains itself cannot be written in finite bytes: reading one
                # recurses until the reader gives up, it allocates nothing without bound.
                return False
            width = self.zero_width(self._named[node], visiting | {node})
            self._widths[node] = width
            return width
        if isinstance(node, list):
            return False  # a union's branch index takes at least one byte
        if not isinstance(node, dict):
            return False
        kind = node.get("type")
        if kind == "fixed":
            return node.get("size") == 0
        if kind in ("record", "error"):
            name = node.get("name")
            inner = visiting | {name} if isinstance(name, str) else visiting
            return all(self.zero_width(f.get("type"), inner) for f in node.get("fields", ()))
        if kind in ("array", "map", "enum"):
            return False  # a block count or an index takes at least one byte
        return self.zero_width(kind, visiting)
