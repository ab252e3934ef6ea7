"""The size measure shared by the client and the emulator."""

from __future__ import annotations

import json

from schemas.limits import RECORD_LIMIT, REQUEST_LIMIT, entity_size


def test_limits_are_aeps() -> None:
    assert RECORD_LIMIT == 100 * 1024
    assert REQUEST_LIMIT == 1024 * 1024


def test_size_is_compact_utf8_json_bytes() -> None:
    entity = {"person": {"name": {"firstName": "Zoë", "lastName": "山田"}}, "n": [1, 2.5, True]}
    compact = json.dumps(entity, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert entity_size(entity) == len(compact)
    # "ë" is 2 bytes and each CJK character 3: not the character count, not \\u escapes
    assert entity_size({"a": "ë"}) == len('{"a":""}') + 2
    assert entity_size({"a": "山"}) == len('{"a":""}') + 3


def test_size_grows_with_the_entity() -> None:
    assert entity_size({"a": "x" * RECORD_LIMIT}) > RECORD_LIMIT
    assert entity_size({}) == 2
