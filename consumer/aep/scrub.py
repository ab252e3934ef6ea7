"""Scrubbing of text that leaves the process: AEP messages and exception messages.

AEP quotes the offending values in its messages (``string [john@example.com] is not a valid
email``), so every bracketed or quoted value is replaced by ``[redacted]`` and the result is cut
to 1 KB (docs/DESIGN.md §7 and §10). Unterminated brackets and quotes are redacted to the end:
when in doubt, the value is treated as personal data.
"""

from __future__ import annotations

import re
from typing import Final

REDACTED: Final = "[redacted]"
MAX_BYTES: Final = 1024
_ELLIPSIS: Final = "..."

# A backstop for values AEP (or an exception) did not bracket or quote.
_EMAIL: Final = re.compile(r"[^\s\[\]'\"<>(),;:]+@[^\s\[\]'\"<>(),;:]+\.[A-Za-z]{2,}")


def scrub(text: str, *, max_bytes: int = MAX_BYTES) -> str:
    """`text` with bracketed and quoted values redacted, at most `max_bytes` UTF-8 bytes."""
    return truncate_utf8(_EMAIL.sub(REDACTED, _redact_values(text)), max_bytes)


def _redact_values(text: str) -> str:
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        end = -1
        if ch == "[":
            end = _bracket_end(text, i)
        elif ch == '"':
            end = _double_quote_end(text, i)
        elif ch == "'" and not (i > 0 and _is_word(text[i - 1])):
            # An apostrophe inside a word ("doesn't", "customers'") opens no value.
            end = _single_quote_end(text, i)
        if end < 0:
            out.append(ch)
            i += 1
            continue
        out.append(REDACTED)
        i = end + 1
    return "".join(out)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _bracket_end(text: str, start: int) -> int:
    # Nested brackets belong to the value: `[a[b]c]` is one value.
    depth = 0
    for j in range(start, len(text)):
        if text[j] == "[":
            depth += 1
        elif text[j] == "]":
            depth -= 1
            if depth == 0:
                return j
    return len(text) - 1


def _double_quote_end(text: str, start: int) -> int:
    j = start + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == '"':
            return j
        j += 1
    return len(text) - 1


def _single_quote_end(text: str, start: int) -> int:
    # The closing quote is one not followed by a word character, so `'O'Brien'` is one value.
    for j in range(start + 1, len(text)):
        if text[j] == "'" and not (j + 1 < len(text) and _is_word(text[j + 1])):
            return j
    return len(text) - 1


def truncate_utf8(text: str, max_bytes: int = MAX_BYTES) -> str:
    """`text` cut to at most `max_bytes` UTF-8 bytes on a character boundary, marked by '...'."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    keep = max(max_bytes - len(_ELLIPSIS), 0)
    return encoded[:keep].decode("utf-8", errors="ignore") + _ELLIPSIS[: max_bytes - keep]
