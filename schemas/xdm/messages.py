"""AEP's wording of a violation, values included: for the AEP emulator only.

AEP validates with the everit JSON Schema library and reports its messages (docs/AEP.md §2.5):
`extraneous key [workEmail] is not permitted`, `expected type: String, found: Long`. These
messages carry record values, which is why the runtime never builds them; the emulator does,
so that the client's scrubbing of AEP's answers is tested against realistic text.
"""

from __future__ import annotations

from typing import Any, Final

from schemas.xdm.validator import Violation

_MISSING: Final = object()
_FORMAT_HINTS: Final = {
    "email": "[{v}] is not a valid email address",
    "date-time": (
        "[{v}] is not a valid date-time. Expected [yyyy-MM-dd'T'HH:mm:ssZ, "
        "yyyy-MM-dd'T'HH:mm:ss.[0-9]{{1,9}}Z]"
    ),
    "date": "[{v}] is not a valid date. Expected [yyyy-MM-dd]",
    "uri-reference": "[{v}] is not a valid URI reference",
}


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _tokens(pointer: str) -> list[str]:
    return [_unescape(token) for token in pointer.split("/")[1:]] if pointer else []


def value_at(record: Any, pointer: str) -> Any:
    """The value an RFC 6901 pointer names in the record (a private sentinel when absent)."""
    node = record
    for token in _tokens(pointer):
        if isinstance(node, dict):
            node = node.get(token, _MISSING)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
    return node


def _java_type(value: Any) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Long" if -(2**63) <= value < 2**63 else "BigInteger"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "String"
    if isinstance(value, dict):
        return "JSONObject"
    if isinstance(value, list):
        return "JSONArray"
    return type(value).__name__


def aep_pointer(violation: Violation) -> str:
    """AEP's `pointerToViolation`: `#` and the pointer; unknown or missing keys on the parent."""
    pointer = violation.pointer
    if violation.keyword in ("additionalProperties", "required"):
        pointer = pointer.rpartition("/")[0]
    return "#" + pointer


def aep_message(violation: Violation, record: Any) -> str:
    """The message AEP would give for this violation of this record, values included."""
    value = value_at(record, violation.pointer)
    keyword = violation.keyword
    expected = violation.expected
    if keyword == "additionalProperties":
        return f"extraneous key [{_tokens(violation.pointer)[-1]}] is not permitted"
    if keyword == "required":
        return f"required key [{_tokens(violation.pointer)[-1]}] not found"
    if keyword == "type":
        return f"expected type: {expected}, found: {_java_type(value)}"
    if keyword == "enum":
        return f"{value} is not a valid enum value"
    if keyword == "pattern":
        return f"string [{value}] does not match pattern {expected}"
    if keyword == "format":
        hint = _FORMAT_HINTS.get(expected, "[{v}] is not a valid " + expected)
        return hint.format(v=value)
    if keyword == "minimum":
        return f"{value} is not greater or equal to {expected}"
    if keyword == "maximum":
        return f"{value} is not less or equal to {expected}"
    size = len(value) if isinstance(value, str | list | dict) else 0
    if keyword == "minLength":
        return f"expected minLength: {expected}, actual: {size}"
    if keyword == "maxLength":
        return f"expected maxLength: {expected}, actual: {size}"
    if keyword == "minItems":
        return f"expected minimum item count: {expected}, found: {size}"
    if keyword == "maxItems":
        return f"expected maximum item count: {expected}, found: {size}"
    if keyword == "minProperties":
        return f"minimum size: [{expected}], found: [{size}]"
    return violation.rule
