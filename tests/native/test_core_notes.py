"""The core's note strings are `mappers.notes`' constants, passed in by name: all of them, and
nothing else."""

from __future__ import annotations

import pytest
from profile_sync_core import Core

from consumer.pipeline.native_core import CORE_NOTES
from mappers import MapperOptions
from mappers.notes import NOTE_CLASSES
from tests.native.support import core_for


def test_the_core_reports_every_note_class() -> None:
    assert sorted(CORE_NOTES.values()) == sorted(NOTE_CLASSES)


def _core(note_names: dict[str, str]) -> Core:
    options = MapperOptions()
    return Core(
        email_identity=options.email_identity,
        gender_map=options.gender_map,
        audit_field_group=False,
        tenant_id=None,
        subdivisions=(),
        tlds=(),
        notes=note_names,
    )


@pytest.mark.parametrize("missing", sorted(CORE_NOTES))
def test_a_missing_note_name_is_refused(missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        _core({k: v for k, v in CORE_NOTES.items() if k != missing})


def test_an_unknown_note_name_is_refused() -> None:
    with pytest.raises(ValueError, match="UNKNOWN_RECORD_TYPE"):
        _core({**CORE_NOTES, "UNKNOWN_RECORD_TYPE": "map.unknown_record_type"})


def test_the_core_builds_for_the_default_options() -> None:
    assert core_for(MapperOptions()).transform(b"") is None
