"""Of AEP's answer to a refused message, only the status, xactionId, error code and keyword."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from consumer.aep.refusals import KEYWORDS, refusal_detail


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        ("string [jane@example.com] is not a valid email address", {"keyword": "format"}),
        ("[1990-13-45] is not a valid date. Expected [yyyy-MM-dd]", {"keyword": "format"}),
        ("string [Jane] does not match pattern ^[0-9]+$", {"keyword": "pattern"}),
        ("Jane is not a valid enum value", {"keyword": "enum"}),
        ("expected type: String, found: Long", {"keyword": "type"}),
        ("required key [email] not found", {"keyword": "required"}),
        ("extraneous key [workEmail] is not permitted", {"keyword": "additionalProperties"}),
        ("-5 is not greater or equal to 0", {"keyword": "minimum"}),
        ("40000 is not less or equal to 32767", {"keyword": "maximum"}),
        ("expected minLength: 1, actual: 0", {"keyword": "minLength"}),
        ("expected maxLength: 2, actual: 9", {"keyword": "maxLength"}),
        ("expected minimum item count: 1, found: 0", {"keyword": "minItems"}),
        ("expected maximum item count: 1, found: 3", {"keyword": "maxItems"}),
        ("minimum size: [1], found: [0]", {"keyword": "minProperties"}),
        ('{"keyword": "Pattern", "message": "Jane Doe"}', {"keyword": "pattern"}),
        ("XDM-1528-400 Jane Doe refused", {"code": "XDM-1528-400"}),
        (
            "DCVS-1106-400: string [x] is not a valid email",
            {"code": "DCVS-1106-400", "keyword": "format"},
        ),
        ("value Jane Doe +1 555 0199 refused", {}),
        ("name XDM-1528-4001 refused", {}),  # not a code: more digits follow
        ("ABCXDM-1528-400", {}),
        ("", {}),
    ],
)
def test_only_the_code_and_keyword_are_kept(message: str, kept: dict[str, str]) -> None:
    assert refusal_detail(400, "b:1", message) == {"status": 400, "xactionId": "b:1", **kept}


def test_the_first_wording_names_the_keyword() -> None:
    message = "expected type: String, found: Long; required key [a] not found"
    assert refusal_detail(400, None, message) == {"status": 400, "keyword": "type"}


@pytest.mark.parametrize(
    "xaction_id",
    ["1565638336649:1750:244:0", "9341f8eb-494a-4c89-9879-4d06a58d2dc7-3"],
)
def test_ids_of_aeps_shapes_are_kept(xaction_id: str) -> None:
    assert refusal_detail(400, xaction_id, "")["xactionId"] == xaction_id


@pytest.mark.parametrize("xaction_id", ["jane doe", "jane@example.com", "", "x" * 200, None])
def test_anything_else_in_the_xaction_id_is_dropped(xaction_id: str | None) -> None:
    assert refusal_detail(422, xaction_id, "x") == {"status": 422}


def test_the_readme_lists_exactly_the_kept_keywords() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    row = next(
        line for line in readme.splitlines() if line.startswith("| `profile_sync.error.detail`")
    )
    listed = re.search(r"one of (.*?)\)", row)
    assert listed is not None
    assert set(re.findall(r"`(\w+)`", listed[1])) == set(KEYWORDS)
    assert {"format", "pattern", "enum", "type", "required"} <= set(KEYWORDS)
