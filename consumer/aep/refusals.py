"""What the service keeps of AEP's answer when AEP refuses one record: nothing of its free text.

AEP's per-message messages quote the record's values (`string [jane@example.com] is not a valid
email`), in brackets, quotes, backticks or none at all; no scrubbing of free text can be sure
to catch a name or a phone number. So the dead-letter detail keeps only:

- `status`: the per-message status;
- `xactionId`: AEP's trace id of the message, when it has the shape of an id;
- `code`: the first AEP error code in the message (`XDM-1001-400`, `DCVS-1106-400`), if any;
- `keyword`: the JSON Schema keyword AEP's validator names (`format`, `pattern`, `enum`, `type`,
  `required`, ...), when the message says one, either by name or in the validator's wording.

The code and keyword are the service's own strings from an allow-list, never text copied from
the message, so nothing AEP quotes can pass through. Errors that reach a log or an exit message
(a whole-request refusal, a refused envelope) keep the same code and keyword and nothing else.
"""

from __future__ import annotations

import re
from typing import Final

# AEP's error codes: service prefix, a four-digit number and the HTTP status
# (`XDM-1528-400`; the Data Collection Validation Service's are `DCVS-...`).
_CODE: Final = re.compile(r"(?<![A-Za-z0-9-])(?P<code>(?:XDM|DCVS)-[0-9]{4}-[0-9]{3})(?![0-9-])")
# The keywords AEP's JSON Schema validator reports (its streaming validation covers range,
# presence, enum, pattern, type and format).
KEYWORDS: Final[tuple[str, ...]] = (
    "additionalProperties",
    "enum",
    "format",
    "maxItems",
    "maxLength",
    "maximum",
    "minItems",
    "minLength",
    "minProperties",
    "minimum",
    "pattern",
    "required",
    "type",
)
_KEYWORD_NAMED: Final = re.compile(
    r"\bkeyword\b\W{0,4}(?P<keyword>" + "|".join(KEYWORDS) + r")\b", re.IGNORECASE
)
# The validator's wording of each keyword's violation (what AEP echoes in its messages).
_WORDINGS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"\bis not a valid (?:email|date-time|date|uri|URI)", re.I), "format"),
    (re.compile(r"\bdoes not match pattern\b", re.I), "pattern"),
    (re.compile(r"\bis not a valid enum value\b", re.I), "enum"),
    (re.compile(r"\bexpected type:", re.I), "type"),
    (re.compile(r"\brequired key\b.*\bnot found\b", re.I | re.S), "required"),
    (re.compile(r"\bextraneous key\b.*\bis not permitted\b", re.I | re.S), "additionalProperties"),
    (re.compile(r"\bis not greater or equal to\b", re.I), "minimum"),
    (re.compile(r"\bis not less or equal to\b", re.I), "maximum"),
    (re.compile(r"\bexpected minLength\b", re.I), "minLength"),
    (re.compile(r"\bexpected maxLength\b", re.I), "maxLength"),
    (re.compile(r"\bexpected minimum item count\b", re.I), "minItems"),
    (re.compile(r"\bexpected maximum item count\b", re.I), "maxItems"),
    (re.compile(r"\bminimum size: ", re.I), "minProperties"),
)
_CANONICAL: Final = {keyword.lower(): keyword for keyword in KEYWORDS}
# xactionIds are `<batchId>:<index>` or `<uuid>-<index>`: anything else is not kept.
_XACTION_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._-]{0,127}")
# Only the start of a long message is searched: codes and wordings come first.
_SEARCHED_CHARS: Final = 4096


def refusal_detail(status: int, xaction_id: str | None, message: str) -> dict[str, object]:
    """The dead-letter detail of one refused message: see the module's docstring."""
    detail: dict[str, object] = {"status": status}
    if xaction_id is not None and _XACTION_ID.fullmatch(xaction_id):
        detail["xactionId"] = xaction_id
    text = message[:_SEARCHED_CHARS]
    code = _CODE.search(text)
    if code is not None:
        detail["code"] = code["code"]
    keyword = _keyword(text)
    if keyword is not None:
        detail["keyword"] = keyword
    return detail


def answer_summary(message: str) -> str:
    """The same allow-list for an error that ends up in a log or an exit message (a whole-request
    refusal, a refused envelope): `code XDM-1001-400, keyword format`, or that there was none."""
    detail = refusal_detail(0, None, message)
    parts = [f"{name} {detail[name]}" for name in ("code", "keyword") if name in detail]
    return ", ".join(parts) if parts else "no AEP error code"


def _keyword(text: str) -> str | None:
    named = _KEYWORD_NAMED.search(text)
    if named is not None:
        return _CANONICAL[named["keyword"].lower()]
    found = [(m.start(), keyword) for pattern, keyword in _WORDINGS if (m := pattern.search(text))]
    return min(found)[1] if found else None
