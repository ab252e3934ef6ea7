"""The error-class registry is the one list operators read; the README documents all of it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemas.error_classes import (
    ERROR_CLASSES,
    NOTE_CLASSES,
    STAGES,
    exception_class_name,
    stage_of,
)

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `((?:decode|map|validate|deliver)\.[a-z_]+)` \|", re.MULTILINE)


def test_every_class_has_a_known_stage_and_a_description() -> None:
    for name, description in {**ERROR_CLASSES, **NOTE_CLASSES}.items():
        stage, _, reason = name.partition(".")
        assert stage in STAGES, name
        assert re.fullmatch(r"[a-z][a-z_]*", reason), name
        assert description.strip(), name


def test_readme_lists_exactly_the_registered_classes() -> None:
    documented = ROW.findall(README.read_text(encoding="utf-8"))
    assert len(documented) == len(set(documented)), "a class is documented twice"
    assert set(documented) == set(ERROR_CLASSES) | set(NOTE_CLASSES)


def test_exception_class_name_follows_the_header_contract() -> None:
    assert exception_class_name("decode.unknown_fingerprint") == "profile_sync.DecodeError"
    assert exception_class_name("deliver.aep_rejected") == "profile_sync.DeliverError"
    assert stage_of("validate.record_too_large") == "validate"


def test_unregistered_class_is_refused() -> None:
    with pytest.raises(KeyError):
        stage_of("decode.no_such_thing")
