"""The record's `_id`."""

from __future__ import annotations

import hashlib


def record_id(event_id: str, record_type: str) -> str:
    """Lower-case hex SHA-256 of the UTF-8 bytes of `{event_id}:{record_type}`.

    One Commerce event yields one record, so the id is stable when an event is redelivered or
    replayed (AEP sees the same record again, not a new one) and differs between events. The
    record type is the short name (`CustomerUpdated`), whichever form the event came in. A hex
    digest is a valid `uri-reference` (AEP asks for no colons in `_id`).
    """
    # surrogatepass: a hash must not fail on text that is not valid Unicode.
    return hashlib.sha256(f"{event_id}:{record_type}".encode("utf-8", "surrogatepass")).hexdigest()
