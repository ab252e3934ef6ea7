"""Property tests: the compiled validator against the official schemas as an oracle.

Records are generated in XED form, turned into the raw XDM form of the official files
(`xdm:` prefixes, `@id`, `repo:`...) by an independent converter, and checked by the
`jsonschema` library over the verbatim official files with the same format rules. What the
oracle accepts, the compiled validator must accept; a record with one mutation (wrong type,
null, pattern, enum, format, unknown field, empty value) must be refused at that field.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft6Validator, FormatChecker
from referencing import Registry, Resource

import schemas.xdm
from schemas.xdm import (
    FORMAT_CHECKS,
    Validator,
    XdmOptions,
    compile_validator,
    field_group_ids,
    resolved_profile_schema,
    tenant_field_group,
)
from tests.schemas.xdm.xdm_samples import TENANT

OPTIONS = XdmOptions(tenant_fields=True, tenant_id=TENANT)
OFFICIAL_DIR = Path(schemas.xdm.__file__).parent / "official"
NAMESPACES = ["CustomerId", "Email", "ECID", "Phone"]
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------- the oracle


def _oracle() -> Draft6Validator:
    documents = [
        json.loads(path.read_text(encoding="utf-8")) for path in OFFICIAL_DIR.glob("*.schema.json")
    ]
    registry: Registry[Any] = Registry().with_resources(
        (document["$id"], Resource.from_contents(document)) for document in documents
    )
    checker = FormatChecker(formats=())
    for name, check in FORMAT_CHECKS.items():
        checker.checks(name)(check)
    official_ids = [i for i in field_group_ids(OPTIONS) if i.startswith("https://ns.adobe.com/xdm")]
    root = {"allOf": [{"$ref": schema_id} for schema_id in official_ids]}
    return Draft6Validator(root, registry=registry, format_checker=checker)


ORACLE = _oracle()
TENANT_ORACLE = Draft6Validator(tenant_field_group(TENANT), format_checker=FormatChecker())


def to_raw(value: Any) -> Any:
    """XED form -> raw XDM form, by the naming rules of adobe/xdm NAMESPACES.md."""
    if isinstance(value, list):
        return [to_raw(item) for item in value]
    if not isinstance(value, dict):
        return value
    raw: dict[str, Any] = {}
    for key, item in value.items():
        if key == "identityMap" and isinstance(item, dict):
            raw["xdm:identityMap"] = {ns: to_raw(entries) for ns, entries in item.items()}
        elif key == "_id":
            raw["@id"] = to_raw(item)
        elif key.startswith("_") and isinstance(item, dict):
            for sub_key, sub_item in item.items():
                raw[f"{key[1:]}:{sub_key}"] = to_raw(sub_item)
        else:
            raw[f"xdm:{key}"] = to_raw(item)
    return raw


def oracle_accepts(record: dict[str, Any]) -> bool:
    official = {key: value for key, value in record.items() if key != f"_{TENANT}"}
    if not ORACLE.is_valid(to_raw(official)):
        return False
    return f"_{TENANT}" not in record or TENANT_ORACLE.is_valid(
        {f"_{TENANT}": record[f"_{TENANT}"]}
    )


# ---------------------------------------------------------------- generating records

EMAILS = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.from_regex(
        r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,8}(\.[A-Za-z0-9_+-]{1,5}){0,2}", fullmatch=True
    ),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True),
    st.sampled_from(["com", "de", "org", "co", "museum", "xn--p1ai", "shop"]),
)
OFFSETS = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
DATE_TIMES = st.builds(
    lambda moment, spec: moment.isoformat(timespec=spec).replace("+00:00", "Z"),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=OFFSETS),
    st.sampled_from(["seconds", "milliseconds", "microseconds"]),
)
DATES = st.dates().map(lambda day: day.isoformat())
URI_REFERENCES = st.one_of(
    st.text(alphabet="0123456789abcdef", min_size=1, max_size=64),
    st.sampled_from(["https://example.com/a?b=c#d", "urn:uuid:6e8bc430", "/batch/42", "x-1"]),
)
FORMATS = {"email": EMAILS, "date-time": DATE_TIMES, "date": DATES, "uri-reference": URI_REFERENCES}


def strategy_for(node: dict[str, Any], most_fields: int = 4) -> st.SearchStrategy[Any]:
    json_type = node.get("type")
    if json_type == "object" and "properties" in node:
        # A few fields per object keeps records small and the oracle fast; across examples
        # every field is drawn.
        fields = {name: strategy_for(sub) for name, sub in node["properties"].items()}
        names = st.lists(
            st.sampled_from(sorted(fields)), min_size=1, max_size=most_fields, unique=True
        )
        return names.flatmap(lambda chosen: st.fixed_dictionaries({n: fields[n] for n in chosen}))
    if json_type == "object":
        return st.dictionaries(
            st.sampled_from(NAMESPACES),
            strategy_for(node["additionalProperties"]),
            min_size=1,
            max_size=3,
        )
    if json_type == "array":
        return st.lists(strategy_for(node["items"]), min_size=1, max_size=2)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "format" in node:
        return FORMATS[node["format"]]
    if json_type == "string" and "pattern" in node:
        return st.from_regex(node["pattern"], fullmatch=True).filter(
            lambda text: 0 < len(text) <= node.get("maxLength", 100)
        )
    if json_type == "string":
        return st.text(min_size=1, max_size=node.get("maxLength", 12))
    if json_type == "integer":
        return st.integers(node.get("minimum", -(2**31)), node.get("maximum", 2**31 - 1))
    if json_type == "number":
        return st.floats(
            node.get("minimum"), node.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if json_type == "boolean":
        return st.booleans()
    raise AssertionError(f"no strategy for {node}")


SCHEMA = resolved_profile_schema(OPTIONS)
RECORDS = strategy_for(SCHEMA, most_fields=8)


@pytest.fixture(scope="module")
def validator() -> Validator:
    return compile_validator(OPTIONS)


def test_the_oracle_is_not_vacuous() -> None:
    assert ORACLE.is_valid(to_raw({"person": {"gender": "female"}}))
    assert not ORACLE.is_valid(to_raw({"person": {"gender": "f"}}))
    assert not ORACLE.is_valid(to_raw({"personalEmail": {"address": "a@b.nosuchtld"}}))
    assert not ORACLE.is_valid({"workEmail": "x"})  # @context allows prefixed keys only


@SETTINGS
@given(record=RECORDS)
def test_records_the_official_schemas_accept_are_accepted(
    validator: Validator, record: dict[str, Any]
) -> None:
    assume(oracle_accepts(record))
    assert validator.validate(record) == []


# ---------------------------------------------------------------- mutations


def schema_at(pointer_parts: list[str]) -> dict[str, Any]:
    node = SCHEMA
    for part in pointer_parts:
        if node.get("type") == "array":
            node = node["items"]
        elif "properties" in node:
            node = node["properties"][part]
        else:
            node = node["additionalProperties"]
    return node


def locations(value: Any, parts: list[str]) -> list[list[str]]:
    """Every field path in the record."""
    found = [parts] if parts else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += locations(item, [*parts, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += locations(item, [*parts, str(index)])
    return found


WRONG_TYPE = {
    "string": 7,
    "integer": "7",
    "number": "7",
    "boolean": "true",
    "object": "x",
    "array": {"a": 1},
}
BAD_FORMAT = {
    "email": "jane@example.nosuchtld",
    "date-time": "2024-05-01T12:34",
    "date": "2023-02-29",
    "uri-reference": "not a uri",
}


def mutation_for(node: dict[str, Any], kind: str) -> tuple[Any, str] | None:
    """(new value, expected keyword) of a mutation kind for a field, or None if none applies."""
    json_type = node["type"]
    if kind == "type":
        return WRONG_TYPE[json_type], "type"
    if kind == "null":
        return None, "type"
    if kind == "empty":
        empty = {
            "string": ("", "minLength"),
            "object": ({}, "minProperties"),
            "array": ([], "minItems"),
        }
        return empty.get(json_type)
    if kind == "enum" and "enum" in node:
        return "not_in_the_enum", "enum"
    if kind == "format" and "format" in node:
        return BAD_FORMAT[node["format"]], "format"
    if kind == "pattern" and "pattern" in node:
        for candidate in ("!!", "abc", "a1"):
            if re.search(node["pattern"], candidate) is None:
                return candidate, "pattern"
    return None


def replace(record: dict[str, Any], parts: list[str], value: Any) -> None:
    node: Any = record
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def pointer(parts: list[str]) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


@SETTINGS
@given(
    record=RECORDS,
    data=st.data(),
    kind=st.sampled_from(["type", "null", "empty", "enum", "format", "pattern"]),
)
def test_mutated_records_are_refused_at_the_field(
    validator: Validator, record: dict[str, Any], data: st.DataObject, kind: str
) -> None:
    paths = locations(record, [])
    candidates = [(p, mutation_for(schema_at(p), kind)) for p in paths]
    candidates = [(p, m) for p, m in candidates if m is not None]
    assume(candidates)
    parts, (new_value, keyword) = data.draw(st.sampled_from(candidates))
    mutated = copy.deepcopy(record)
    replace(mutated, parts, new_value)
    violations = validator.validate(mutated)
    assert (pointer(parts), keyword) in {(v.pointer, v.keyword) for v in violations}
    if validator.validate(record) == []:
        assert {v.pointer for v in violations} == {pointer(parts)}
    wrapper = parts[-1].startswith("_") and parts[-1] != "_id"  # `_repo`: no raw counterpart
    top_map = parts == ["identityMap"]  # the raw form of a non-object map is not defined
    if kind != "empty" and parts[0] != f"_{TENANT}" and not wrapper and not top_map:
        # the official schemas refuse the same mutation (they allow empty values)
        assert not oracle_accepts(mutated)


@SETTINGS
@given(record=RECORDS, data=st.data())
def test_unknown_fields_are_refused_with_their_path(
    validator: Validator, record: dict[str, Any], data: st.DataObject
) -> None:
    objects = [
        parts
        for parts in [[], *locations(record, [])]
        if schema_at(parts).get("properties") is not None
    ]
    parts = data.draw(st.sampled_from(objects))
    mutated = copy.deepcopy(record)
    node: Any = mutated
    for part in parts:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node["unknownField"] = "x"
    violations = validator.validate(mutated)
    expected = pointer([*parts, "unknownField"])
    assert (expected, "additionalProperties") in {(v.pointer, v.keyword) for v in violations}


def from_raw(value: Any) -> Any:
    """Raw XDM form -> XED form (the converse of `to_raw`), for the upstream examples."""
    if isinstance(value, list):
        return [from_raw(item) for item in value]
    if not isinstance(value, dict):
        return value
    xed: dict[str, Any] = {}
    for key, item in value.items():
        prefix, _, name = key.partition(":")
        if key == "xdm:identityMap":
            xed["identityMap"] = {ns: from_raw(entries) for ns, entries in item.items()}
        elif key == "@id":
            xed["_id"] = from_raw(item)
        elif prefix == "xdm":
            xed[name] = from_raw(item)
        elif prefix:
            xed.setdefault(f"_{prefix}", {})[name] = from_raw(item)
        else:
            xed[key] = from_raw(item)
    return xed


@pytest.mark.parametrize(
    "path", sorted((OFFICIAL_DIR / "examples").glob("*.json")), ids=lambda path: path.name
)
def test_upstream_examples_are_accepted(validator: Validator, path: Path) -> None:
    example = json.loads(path.read_text(encoding="utf-8"))
    raw = {"xdm:identityMap": example} if path.name.startswith("identitymap") else example
    assert ORACLE.is_valid(raw)
    assert validator.validate(from_raw(raw)) == []
