"""Text clean-up shared by every mapped field."""

from __future__ import annotations


def clean(value: str | None) -> str | None:
    """The value without surrounding white space, or None when nothing is left.

    XDM has no use for empty strings, and AEP's profile merge would let an empty string
    overwrite a real value from another source, so blank input means "absent".
    """
    if value is None:
        return None
    return value.strip() or None
