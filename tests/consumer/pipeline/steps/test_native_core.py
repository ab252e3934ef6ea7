"""The native core step: what the core reads skips the Python steps, everything else takes them.

The core itself is checked against the Python steps in tests/native.
"""

from __future__ import annotations

import orjson

from consumer.pipeline.record import POLLED, VALIDATED, Replay, SourceRecord
from consumer.pipeline.steps.native_core import NativeCoreStep, Transformed
from tests.consumer.pipeline.fakes import Collector, CountedNotes, make_record

_ENTITY = orjson.dumps({"_id": "x"})


class ScriptedCore:
    def __init__(self, answers: dict[bytes, Transformed | None]) -> None:
        self.answers = answers
        self.asked: list[bytes] = []

    def transform(self, value: bytes) -> Transformed | None:
        self.asked.append(value)
        return self.answers.get(value)


def _step(
    core: ScriptedCore, limit: int = 1000, metrics: CountedNotes | None = None
) -> tuple[NativeCoreStep, Collector, Collector]:
    python, validated = Collector(), Collector()
    step = NativeCoreStep(core, python, validated, limit, metrics)
    return step, python, validated


def test_a_record_the_core_reads_reaches_the_step_after_validate_ready_to_batch() -> None:
    core = ScriptedCore({b"a": ("CustomerCreated", 42, False, 10, 20, _ENTITY, ())})
    step, python, validated = _step(core)
    record = make_record(7, value=b"a")
    step.submit(record)
    assert validated.offsets == [7]
    assert python.offsets == []
    assert record.progress == VALIDATED
    assert (record.event_type, record.customer_id, record.operation) == (
        "CustomerCreated",
        42,
        "create",
    )
    assert record.ordering_key == (10, 20, 7)
    assert record.entity_json == _ENTITY


def test_the_cores_notes_are_counted_as_the_map_step_counts_them() -> None:
    notes = ("map.gender_unknown", "map.state_province_dropped", "map.state_province_dropped")
    core = ScriptedCore(
        {
            b"n": ("CustomerCreated", 1, False, 1, 1, _ENTITY, notes),
            b"plain": ("CustomerCreated", 2, False, 1, 1, _ENTITY, ()),
        }
    )
    metrics = CountedNotes()
    step, _, validated = _step(core, metrics=metrics)
    step.submit(make_record(1, value=b"n"))
    step.submit(make_record(2, value=b"plain"))
    assert validated.offsets == [1, 2]
    assert metrics.counted == list(notes)


def test_a_delete_keeps_its_operation_and_a_replayed_record_orders_by_its_source_offset() -> None:
    core = ScriptedCore({b"d": ("CustomerDeleted", 42, True, 10, 10, _ENTITY, ())})
    step, _, validated = _step(core)
    record = make_record(3, value=b"d")
    record.replay = Replay(source=("commerce.customer", 0, 99))
    step.submit(record)
    assert validated.offsets == [3]
    assert record.operation == "delete"
    assert record.ordering_key == (10, 10, 99)


def test_what_the_core_does_not_read_takes_the_python_steps_untouched() -> None:
    core = ScriptedCore({})
    step, python, validated = _step(core)
    record = make_record(1, value=b"other")
    step.submit(record)
    assert python.offsets == [1]
    assert validated.offsets == []
    assert record.progress == POLLED
    assert record.customer_id is None


def test_a_record_over_the_limit_takes_the_python_steps_which_refuse_it() -> None:
    core = ScriptedCore({b"big": ("CustomerCreated", 1, False, 1, 1, b"x" * 11, ())})
    step, python, validated = _step(core, limit=10)
    record = make_record(1, value=b"big")
    step.submit(record)
    assert python.offsets == [1]
    assert validated.offsets == []
    assert record.progress == POLLED


def test_a_record_offered_again_is_not_read_twice() -> None:
    core = ScriptedCore({b"a": ("CustomerCreated", 1, False, 1, 1, _ENTITY, ())})
    step, python, _ = _step(core)
    record: SourceRecord = make_record(1, value=b"a")
    record.progress = VALIDATED  # taken once, then refused further down
    step.submit(record)
    assert core.asked == []
    assert python.offsets == [1]


def test_a_tombstone_takes_the_python_steps() -> None:
    core = ScriptedCore({})
    step, python, _ = _step(core)
    step.submit(make_record(1, value=None))
    assert core.asked == []
    assert python.offsets == [1]
