"""Whether `run` gets the native core, and the core it gets."""

from __future__ import annotations

import sys

import pytest

from consumer.config.settings import ConfigFileError
from consumer.pipeline.native_core import native_core
from mappers import MapperOptions
from schemas.xdm import XdmOptions


def test_off_or_with_an_operators_own_schemas_there_is_no_core() -> None:
    assert native_core(MapperOptions(), enabled=False, own_schemas=False) is None
    assert native_core(MapperOptions(), enabled=True, own_schemas=True) is None


def test_on_without_the_package_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "profile_sync_core", None)  # import raises ImportError
    with pytest.raises(ConfigFileError) as caught:
        native_core(MapperOptions(), enabled=True, own_schemas=False)
    assert caught.value.setting == "PROFILE_SYNC_NATIVE_CORE"
    assert "pip install ./native" in caught.value.reason


def test_the_core_gets_the_mappers_options() -> None:
    from tests.native.support import sample_values

    default = native_core(MapperOptions(), enabled=True, own_schemas=False)
    swapped = native_core(
        MapperOptions(
            email_identity=False,
            gender_map={1: "female", 2: "male"},
            xdm=XdmOptions(audit_field_group=False),
        ),
        enabled=True,
        own_schemas=False,
    )
    assert default is not None
    assert swapped is not None
    males = 0
    for value in sample_values(300, 7, 0.0):
        ours, theirs = default.transform(value), swapped.transform(value)
        if ours is None or theirs is None or ours[2]:
            continue
        assert b'"Email"' in ours[5]
        assert b'"Email"' not in theirs[5]
        assert b"extSourceSystemAudit" in ours[5]
        assert b"extSourceSystemAudit" not in theirs[5]
        if b'"gender":"male"' in ours[5]:
            males += 1
            assert b'"gender":"female"' in theirs[5]
    assert males > 0
