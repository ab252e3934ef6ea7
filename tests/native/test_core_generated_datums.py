"""The core against the Python steps on datums generated from the shipped writer schemas
themselves (every field, any value its Avro type allows), as `tests/mappers/test_decoded_events.py`
generates them: wherever the core answers, its answer is the Python steps'."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mappers import MapperOptions
from tests.mappers.test_decoded_events import SETTINGS, _datums, _encoded
from tests.native.test_core_matches_python import compare

_OPTIONS = MapperOptions()


@SETTINGS
@given(st.sampled_from(["CustomerCreated", "CustomerUpdated", "CustomerDeleted"]).flatmap(
    lambda t: st.tuples(st.just(t), _datums(t))
))  # fmt: skip
def test_generated_datums_give_the_python_steps_answer(case: tuple[str, dict[str, Any]]) -> None:
    record_type, datum = case
    value = _encoded(record_type, datum)
    if value is not None:
        compare(_OPTIONS, [value])
