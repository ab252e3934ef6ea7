"""Fuzzing `profile-sync map`'s per-line function with arbitrary and mutated JSON.

Every line yields one JSON-serialisable result: an upsert, a delete, or an error line of a
`map.*` / `validate.*` class whose message carries none of the input's personal data; no
exception escapes, within the per-record budget of tests/support/budget.py.

`make test` runs Hypothesis' default example count; `make fuzz` the "fuzz" profile.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumer.commands.map import LineMapper
from mappers import MapperOptions
from schemas.xdm import XdmOptions
from tests.mappers.inputs import address, customer, delete_event, upsert_event
from tests.support.budget import traced, within_budget

pytestmark = pytest.mark.fuzz

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

MAPPERS = {
    "default": LineMapper(MapperOptions()),
    "tenant": LineMapper(
        MapperOptions(
            email_identity=True,
            gender_map={1: "male", 2: "female"},
            xdm=XdmOptions(audit_field_group=True, tenant_fields=True, tenant_id="acme"),
        )
    ),
}
RECORD_TYPES = ("CustomerCreated", "CustomerUpdated", "CustomerDeleted")
SEED_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("CustomerCreated", upsert_event(customer(addresses=[address()], default_billing=7))),
    ("CustomerUpdated", upsert_event(customer(gender=2, dob="1990-02-28"))),
    ("CustomerDeleted", delete_event()),
]
# Personal data of the seeds: never in an error message.
PERSONAL = (
    "avery.hollis@example.com",
    "Avery",
    "Hollis",
    "Maple Avenue",
    "Springfield",
    "555-0100",
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)


def _check(line: str, label: str) -> dict[str, Any]:
    mapper = MAPPERS[label]
    results: list[dict[str, Any]] = []

    def one() -> None:
        result, _notes = mapper.map_line(line)
        orjson.dumps(result)  # what run_map writes: must serialise too
        results.append(result)

    raised = within_budget(one, f"map line ({label})")
    if raised is not None:
        raise AssertionError(
            f"{type(raised).__name__} escaped map_line for {line[:500]!r}"
        ) from raised
    (result,) = results
    assert isinstance(result, dict)
    if "error" in result:
        error = result["error"]
        assert set(result) == {"error"}
        assert error["class"].startswith(("map.", "validate.")), error
        assert isinstance(error["message"], str)
        assert all(isinstance(f, str) for f in error["fields"])
        for value in PERSONAL:
            assert value not in error["message"], error
    else:
        assert set(result) == {"operation", "record"}
        assert result["operation"] in {"upsert", "delete"}
    return result


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    record_type, seed = draw(st.sampled_from(SEED_EVENTS))
    event = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(event) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = event
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    line_type = draw(st.sampled_from(RECORD_TYPES) | st.just(record_type) | st.text(max_size=20))
    return {"type": line_type, "event": event}


@FUZZ
@given(value=json_values, mapper=st.sampled_from(sorted(MAPPERS)))
def test_arbitrary_json_yields_one_result_line(value: Any, mapper: str) -> None:
    with traced():
        result = _check(orjson.dumps(value).decode(), mapper)
    if not isinstance(value, dict):
        assert result["error"]["class"] == "map.invalid_json"


@FUZZ
@given(
    record_type=st.sampled_from(RECORD_TYPES) | st.text(max_size=20),
    event=json_values,
    mapper=st.sampled_from(sorted(MAPPERS)),
)
def test_arbitrary_events_yield_one_result_line(record_type: str, event: Any, mapper: str) -> None:
    line = orjson.dumps({"type": record_type, "event": event}).decode()
    with traced():
        _check(line, mapper)


@FUZZ
@given(line=mutated_events(), mapper=st.sampled_from(sorted(MAPPERS)))
def test_mutated_contract_events_yield_one_result_line(line: dict[str, Any], mapper: str) -> None:
    with traced():
        _check(orjson.dumps(line).decode(), mapper)


@FUZZ
@given(text=st.text(max_size=200), mapper=st.sampled_from(sorted(MAPPERS)))
def test_arbitrary_text_yields_one_result_line(text: str, mapper: str) -> None:
    with traced():
        _check(text, mapper)


@pytest.mark.parametrize(("record_type", "event"), SEED_EVENTS)
def test_the_seed_events_map(record_type: str, event: dict[str, Any]) -> None:
    """The mutations start from valid events: each seed maps as it is."""
    with traced():
        result = _check(orjson.dumps({"type": record_type, "event": event}).decode(), "default")
    assert "operation" in result, result
