"""MapperOptions, the gender map check, and the error/note class registry."""

from __future__ import annotations

import pytest

from mappers import DEFAULT_GENDER_MAP, MapperOptions, gender_map_by_id
from mappers import notes as map_notes
from schemas.error_classes import ERROR_CLASSES, NOTE_CLASSES
from schemas.xdm import XdmOptions


def test_defaults() -> None:
    options = MapperOptions()
    assert options.email_identity is True
    assert dict(options.gender_map) == {1: "male", 2: "female", 3: "not_specified"}
    assert options.xdm == XdmOptions(audit_field_group=True, tenant_fields=False)
    assert dict(DEFAULT_GENDER_MAP) == dict(options.gender_map)


def test_gender_map_json_keys_become_option_ids() -> None:
    assert gender_map_by_id({"1": "female", "12": "non_specific"}) == {
        1: "female",
        12: "non_specific",
    }
    options = MapperOptions(gender_map={"1": "female"})  # type: ignore[dict-item]
    assert dict(options.gender_map) == {1: "female"}


@pytest.mark.parametrize(
    "gender_map", [{"1": "man"}, {"x": "male"}, {"1": "MALE"}, {"1.5": "female"}]
)
def test_bad_gender_map_is_refused(gender_map: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="gender_map"):
        gender_map_by_id(gender_map)


def test_bad_gender_map_key_type_is_refused() -> None:
    with pytest.raises(ValueError, match="gender_map"):
        MapperOptions(gender_map={True: "male"})


def test_options_cannot_be_changed_through_the_gender_map() -> None:
    source = {1: "male"}
    options = MapperOptions(gender_map=source)
    source[2] = "female"
    assert dict(options.gender_map) == {1: "male"}


def test_every_mapper_class_is_registered() -> None:
    for error_class in map_notes.ERROR_CLASSES:
        assert error_class in ERROR_CLASSES
    for note in map_notes.NOTE_CLASSES:
        assert note in NOTE_CLASSES
    registered_map_classes = {c for c in ERROR_CLASSES if c.startswith("map.")}
    assert registered_map_classes == set(map_notes.ERROR_CLASSES)
