"""Size limits of AEP's streaming inlet, measured the same way by the client and the emulator."""

from __future__ import annotations

from typing import Any, Final

import orjson

# Bytes of the compact UTF-8 JSON of one `xdmEntity` (docs/DESIGN.md §6).
RECORD_LIMIT: Final = 102_400
# Bytes of one request body as sent.
REQUEST_LIMIT: Final = 1_048_576


def entity_size(entity: Any) -> int:
    """Bytes of the entity's compact UTF-8 JSON (orjson: no spaces, non-ASCII unescaped)."""
    return len(orjson.dumps(entity))
