"""The `property=` filter grammar shared by the list endpoints."""

from __future__ import annotations

import pytest

from aep_emulator.platform.filters import parse_property

DOC = {
    "name": "commerce-profile-sync",
    "version": "1.0.10",
    "state": "enabled",
    "meta:intendedToExtend": ["https://ns.adobe.com/xdm/context/profile"],
    "inheritedAttributes": {"sourceConnections": [{"id": "a"}, {"id": "b"}]},
    "flag": True,
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("name==commerce-profile-sync", True),
        ("name==other", False),
        ("name!=other", True),
        ("name!=commerce-profile-sync", False),
        ("name~^commerce", True),
        ("name~^profile", False),
        ("version>1.0.9", True),  # versions compare numerically, not as text
        ("version<1.0.9", False),
        ("version>=1.0.10", True),
        ("version<=1.0.10", True),
        ("name", True),
        ("missing", False),
        ("!missing", True),
        ("!name", False),
        ("meta:intendedToExtend==https://ns.adobe.com/xdm/context/profile", True),
        ("inheritedAttributes.sourceConnections[].id==b", True),
        ("inheritedAttributes.sourceConnections.id==c", False),
        ("flag==true", True),
        ("title==a==b", False),
    ],
)
def test_filter(expression: str, expected: bool) -> None:
    assert parse_property(expression).matches(DOC) is expected


def test_value_may_contain_operators() -> None:
    parsed = parse_property("title==a==b")
    assert (parsed.path, parsed.op, parsed.value) == ("title", "==", "a==b")
    assert parsed.matches({"title": "a==b"})


@pytest.mark.parametrize("expression", ["", "!", "name~("])
def test_bad_filters_raise(expression: str) -> None:
    with pytest.raises(ValueError):
        parse_property(expression)
