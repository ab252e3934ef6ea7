"""A validator compiled once from the resolved schema into closures, for the hot path.

It understands the small JSON Schema subset the resolved XDM schema uses (type, properties,
additionalProperties, required, enum, pattern, format, minimum/maximum, minLength/maxLength,
items, minItems/maxItems) and adds what AEP's ingestion refuses beyond the schema: null
values and empty strings, objects and arrays. `meta:enum` lists suggestions and is not
enforced. A `Violation` names the field (JSON pointer) and the rule, never the value: the
value may be personal data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from schemas.xdm.formats import FORMAT_CHECKS
from schemas.xdm.options import XdmOptions
from schemas.xdm.resolver import JsonSchema, resolved_profile_schema


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule. `pointer`: RFC 6901 pointer to the offending field ("" is the record;
    for an unknown field, the pointer names that field). `keyword`: the JSON Schema keyword
    (`type`, `additionalProperties`, `enum`, `pattern`, `format`, `minimum`, `maximum`,
    `minLength`, `maxLength`, `minItems`, `maxItems`, `minProperties`, `required`). `rule`: the
    rule in words. `expected`: the schema side of the rule (type name, pattern, format,
    limit), for rendering messages. No field holds a value from the record.
    """

    pointer: str
    keyword: str
    rule: str
    expected: str = ""


Check = Callable[[Any, str, list[Violation]], None]

# Everit (AEP's validator) names JSON types by the Java classes its parser produces.
_TYPE_NAMES: Final = {
    "string": "String",
    "integer": "Integer",
    "number": "Number",
    "boolean": "Boolean",
    "object": "JSONObject",
    "array": "JSONArray",
}
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _type_violation(pointer: str, json_type: str, value: Any) -> Violation:
    rule = "must not be null" if value is None else f"must be of type {json_type}"
    return Violation(pointer, "type", rule, _TYPE_NAMES[json_type])


def _is_type(json_type: str) -> Callable[[Any], bool]:
    if json_type == "string":
        return lambda value: type(value) is str
    if json_type == "boolean":
        return lambda value: type(value) is bool
    if json_type == "integer":
        return lambda value: type(value) is int
    if json_type == "number":
        return lambda value: (type(value) is int) or (type(value) is float and math.isfinite(value))
    raise ValueError(f"unsupported type {json_type}")


def _scalar_tests(node: JsonSchema) -> list[tuple[Callable[[Any], bool], str, str, str]]:
    """(test, keyword, rule, expected) for each constraint beyond the type."""
    tests: list[tuple[Callable[[Any], bool], str, str, str]] = []
    if "enum" in node:
        allowed = frozenset(node["enum"])
        listed = ", ".join(map(str, node["enum"]))
        tests.append((allowed.__contains__, "enum", f"must be one of: {listed}", listed))
    if "minLength" in node and node["minLength"] > 1:
        low = int(node["minLength"])
        tests.append((lambda v: len(v) >= low, "minLength", f"at least {low} characters", str(low)))
    if "maxLength" in node:
        high = int(node["maxLength"])
        tests.append(
            (lambda v: len(v) <= high, "maxLength", f"at most {high} characters", str(high))
        )
    if "pattern" in node:
        # JSON Schema patterns are unanchored (ECMA 262 `test`), as in AEP.
        search = re.compile(node["pattern"]).search
        pattern = node["pattern"]
        tests.append(
            (lambda v: search(v) is not None, "pattern", f"must match pattern {pattern}", pattern)
        )
    if "format" in node:
        name = node["format"]
        check = FORMAT_CHECKS.get(name)
        if check is None:
            raise ValueError(f"unsupported format {name}")
        tests.append((check, "format", f"must be a valid {name}", name))
    if "minimum" in node:
        low_n = node["minimum"]
        tests.append((lambda v: v >= low_n, "minimum", f"must be >= {low_n}", str(low_n)))
    if "maximum" in node:
        high_n = node["maximum"]
        tests.append((lambda v: v <= high_n, "maximum", f"must be <= {high_n}", str(high_n)))
    return tests


Predicate = Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class _Compiled:
    """`ok`: a fast yes/no used on the hot path (no pointers built); `check`: collects the
    violations with their pointers, run only on records `ok` refused. `kind` lets an object
    test plain text and boolean fields inline, without a call."""

    ok: Predicate
    check: Check
    kind: str = ""


_TEXT: Final = "text"
_BOOL: Final = "bool"


def _compile_scalar(node: JsonSchema) -> _Compiled:
    json_type: str = node["type"]
    is_type = _is_type(json_type)
    tests = tuple(_scalar_tests(node))
    must_be_nonempty = json_type == "string"
    unbounded_int = json_type == "integer" and not ("minimum" in node and "maximum" in node)

    def check(value: Any, pointer: str, out: list[Violation]) -> None:
        if not is_type(value):
            out.append(_type_violation(pointer, json_type, value))
            return
        if must_be_nonempty and not value:
            out.append(Violation(pointer, "minLength", "must not be empty", "1"))
            return
        if unbounded_int and not _INT64_MIN <= value <= _INT64_MAX:
            out.append(Violation(pointer, "type", "must fit in a 64-bit integer", "Integer"))
            return
        for test, keyword, rule, expected in tests:
            if not test(value):
                out.append(Violation(pointer, keyword, rule, expected))

    if json_type == "string" and not tests:
        return _Compiled(lambda value: type(value) is str and value != "", check, _TEXT)
    if json_type == "boolean" and not tests:
        return _Compiled(lambda value: type(value) is bool, check, _BOOL)
    if json_type == "string" and len(tests) == 1:
        only = tests[0][0]
        return _Compiled(lambda value: type(value) is str and value != "" and only(value), check)
    if json_type == "integer" and not tests:
        return _Compiled(
            lambda value: type(value) is int and _INT64_MIN <= value <= _INT64_MAX, check
        )
    if json_type == "integer" and {test[1] for test in tests} == {"minimum", "maximum"}:
        low, high = node["minimum"], node["maximum"]
        return _Compiled(lambda value: type(value) is int and low <= value <= high, check)

    def ok(value: Any) -> bool:
        out: list[Violation] = []
        check(value, "", out)
        return not out

    return _Compiled(ok, check)


def _compile_object(node: JsonSchema) -> _Compiled:
    compiled = {name: _compile(sub) for name, sub in node["properties"].items()}
    children: dict[str, tuple[Check, str]] = {
        name: (child.check, "/" + escape_pointer_token(name)) for name, child in compiled.items()
    }
    # Plain text and boolean fields are tested inline; the rest through their predicate.
    fast: dict[str, Any] = {
        name: child.kind if child.kind else child.ok for name, child in compiled.items()
    }
    required: tuple[str, ...] = tuple(node.get("required", ()))
    get_child = children.get
    get_fast = fast.get

    def ok(value: Any) -> bool:
        if type(value) is not dict or not value:
            return False
        for key, item in value.items():
            test = get_fast(key)
            if test is _TEXT:
                if type(item) is not str or item == "":
                    return False
            elif test is _BOOL:
                if type(item) is not bool:
                    return False
            elif test is None or not test(item):
                return False
        if required:
            return all(name in value for name in required)
        return True

    def check(value: Any, pointer: str, out: list[Violation]) -> None:
        if type(value) is not dict:
            out.append(_type_violation(pointer, "object", value))
            return
        if not value:
            out.append(Violation(pointer, "minProperties", "must not be empty", "1"))
            return
        for key, item in value.items():
            child = get_child(key)
            if child is None:
                out.append(
                    Violation(
                        pointer + "/" + escape_pointer_token(str(key)),
                        "additionalProperties",
                        "unknown field is not permitted",
                    )
                )
            else:
                child[0](item, pointer + child[1], out)
        for name in required:
            if name not in value:
                out.append(Violation(pointer + children[name][1], "required", "is required"))

    return _Compiled(ok, check)


def _compile_map(node: JsonSchema) -> _Compiled:
    value_schema = _compile(node["additionalProperties"])
    ok_value = value_schema.ok
    check_value = value_schema.check

    def ok(value: Any) -> bool:
        if type(value) is not dict or not value:
            return False
        for key, item in value.items():
            if type(key) is not str or not key or not ok_value(item):
                return False
        return True

    def check(value: Any, pointer: str, out: list[Violation]) -> None:
        if type(value) is not dict:
            out.append(_type_violation(pointer, "object", value))
            return
        if not value:
            out.append(Violation(pointer, "minProperties", "must not be empty", "1"))
            return
        for key, item in value.items():
            if type(key) is not str or not key:
                out.append(Violation(pointer, "propertyNames", "keys must be non-empty strings"))
                continue
            check_value(item, pointer + "/" + escape_pointer_token(key), out)

    return _Compiled(ok, check)


def _compile_array(node: JsonSchema) -> _Compiled:
    item_schema = _compile(node.get("items", {"type": "string"}))
    ok_item = item_schema.ok
    check_item = item_schema.check
    max_items: int | None = node.get("maxItems")
    limit = max_items if max_items is not None else _INT64_MAX

    def ok(value: Any) -> bool:
        if type(value) is not list or not value or len(value) > limit:
            return False
        return all(map(ok_item, value))

    def check(value: Any, pointer: str, out: list[Violation]) -> None:
        if type(value) is not list:
            out.append(_type_violation(pointer, "array", value))
            return
        if not value:
            out.append(Violation(pointer, "minItems", "must not be empty", "1"))
            return
        if len(value) > limit:
            out.append(Violation(pointer, "maxItems", f"at most {limit} items", str(limit)))
        for index, item in enumerate(value):
            check_item(item, f"{pointer}/{index}", out)

    return _Compiled(ok, check)


_SUPPORTED: Final = frozenset(
    {
        "type", "properties", "additionalProperties", "required", "enum", "pattern", "format",
        "minimum", "maximum", "minLength", "maxLength", "items", "minItems", "maxItems",
        "title", "description", "default", "meta:enum", "meta:xdmType", "meta:status",
        "meta:xdmField", "$schema", "meta:class", "meta:extends",
    }
)  # fmt: skip


def _compile(node: JsonSchema) -> _Compiled:
    unknown = set(node) - _SUPPORTED
    if unknown:
        raise ValueError(f"unsupported schema keywords {sorted(unknown)}")
    json_type = node.get("type")
    if json_type == "object":
        if "properties" in node:
            return _compile_object(node)
        if isinstance(node.get("additionalProperties"), dict):
            return _compile_map(node)
        raise ValueError("an object node needs properties or a map value schema")
    if json_type == "array":
        return _compile_array(node)
    if isinstance(json_type, str):
        return _compile_scalar(node)
    raise ValueError(f"unsupported or missing type {json_type!r}")


class Validator:
    """Checks records against one resolved schema; build it once, call `validate` per record."""

    __slots__ = ("_check", "_ok", "schema")

    def __init__(self, schema: JsonSchema) -> None:
        self.schema: Mapping[str, Any] = schema
        compiled = _compile(schema)
        self._ok = compiled.ok
        self._check = compiled.check

    def validate(self, record: Any) -> list[Violation]:
        """Every violation in the record; an empty list means AEP's checks pass."""
        if self._ok(record):
            return []
        out: list[Violation] = []
        self._check(record, "", out)
        return out


@lru_cache(maxsize=16)
def compile_validator(options: XdmOptions) -> Validator:
    """The validator for the records the mapper emits under these options (cached)."""
    return Validator(resolved_profile_schema(options))
