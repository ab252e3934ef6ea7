"""The customer's e-mail address: cleaned for `personalEmail`, lower-cased for the identity.

The check is the same `email` format rule the validator in `schemas.xdm` applies (AEP's own
check), so an address the mapper lets through is never refused later by AEP for its format.
"""

from __future__ import annotations

from typing import NamedTuple

from schemas.xdm import is_email


class CleanEmail(NamedTuple):
    address: str
    """stripped, case kept: what the customer typed"""
    identity: str
    """stripped and lower-cased: one identity per mailbox, whatever the case typed"""


def clean_email(raw: str) -> CleanEmail | None:
    """The cleaned address, or None when it fails the format check."""
    address = raw.strip()
    if not address or not is_email(address):
        return None
    return CleanEmail(address=address, identity=address.lower())
