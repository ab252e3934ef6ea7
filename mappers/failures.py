"""Turning a pydantic ValidationError of an input model into a MapFailure.

Only the error's type and location are used: pydantic messages can quote what was expected, but
the input itself (personal data) must never reach a message.
"""

from __future__ import annotations

from typing import Final

from pydantic import ValidationError

from mappers import notes
from mappers.results import MapFailure
from mappers.timestamps import INVALID_DATE, INVALID_TIMESTAMP, NULL_VALUE

# (class, message) per pydantic error type; anything else is a plain invalid field.
_BY_TYPE: Final[dict[str, tuple[str, str]]] = {
    INVALID_TIMESTAMP: (
        notes.INVALID_TIMESTAMP,
        "timestamp must be epoch milliseconds or ISO-8601 with a UTC offset",
    ),
    INVALID_DATE: (notes.INVALID_DATE, "date must be a calendar date YYYY-MM-DD"),
    "missing": (notes.MISSING_FIELD, "required field is missing or null"),
    NULL_VALUE: (notes.MISSING_FIELD, "required field is missing or null"),
}
# Type errors whose input was null: a required field sent as null counts as missing.
_NULL_TYPES: Final = frozenset(
    {"int_type", "string_type", "bool_type", "list_type", "dict_type", "model_type"}
)
_INVALID: Final = (notes.INVALID_FIELD, "field has the wrong type or value")
_NULL: Final = (notes.MISSING_FIELD, "required field is missing or null")
# The most specific class wins when one event has several problems.
_PRECEDENCE: Final = (
    notes.INVALID_TIMESTAMP,
    notes.INVALID_DATE,
    notes.MISSING_FIELD,
    notes.INVALID_FIELD,
)


def dotted(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location)


def failure_from(error: ValidationError, customer_id: int | None) -> MapFailure:
    """One MapFailure naming every refused field; the class of the most specific problem."""
    found: dict[str, tuple[str, list[str]]] = {}
    for detail in error.errors(include_input=True, include_url=False):
        kind = detail["type"]
        if kind in _BY_TYPE:
            error_class, message = _BY_TYPE[kind]
        elif kind in _NULL_TYPES and detail.get("input", ...) is None:
            error_class, message = _NULL
        else:
            error_class, message = _INVALID
        path = dotted(_without_union_tags(detail["loc"]))
        entry = found.setdefault(error_class, (message, []))
        if path not in entry[1]:
            entry[1].append(path)
    chosen = next(c for c in _PRECEDENCE if c in found) if found else notes.INVALID_EVENT
    message, paths = found.get(chosen, ("event is not valid", []))
    # Fields of the other problems are named too, so one look at the error shows them all.
    others = [p for c, (_, ps) in found.items() if c != chosen for p in ps if p not in paths]
    all_paths = (*paths, *others)
    return MapFailure(
        error_class=chosen,
        message=f"{message}: {', '.join(paths)}" if paths else message,
        fields=all_paths,
        customer_id=customer_id,
    )


_TAGS: Final = frozenset({"int", "str", "bool", "none", "nullable", "list", "dict"})


def _without_union_tags(location: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # pydantic adds the member type of a union (`int`, `function-before[...]`) to the location;
    # the input path is what the operator needs.
    return tuple(
        part
        for part in location
        if not (isinstance(part, str) and (part.startswith("function-") or part in _TAGS))
    )
