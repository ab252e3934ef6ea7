"""`dlq show`: everything about one dead letter, personal data masked unless asked for.

The original value is decoded with the service's own decoder (both wire formats; Confluent
framing through the Schema Registry when one is configured). A value that does not decode is
shown as the decoder's reason and a hex preview: without `--show-pii` only its framing header
(magic byte and fingerprint or schema id, what tells the formats and schemas apart), with it
at most 64 bytes.
"""

from __future__ import annotations

from typing import Any, Final

from consumer.operations.dead_letter_view import DeadLetterView
from consumer.operations.masking import mask_event, mask_value, plain
from schemas.avro import DecodeError, EventDecoder, TransientDecodeError

PREVIEW_BYTES: Final = 64
# Source headers known to carry no personal data; any other header value is masked like a field.
PLAIN_HEADERS: Final = frozenset({"traceparent", "tracestate"})
# The single-object header (C3 01 + 8-byte fingerprint) is the longest framing header.
FRAMING_BYTES: Final = 10


def decode_value(value: bytes | None, decoder: EventDecoder, show_pii: bool) -> dict[str, Any]:
    try:
        decoded = decoder.decode(value)
    except (DecodeError, TransientDecodeError) as exc:
        reason = (
            {"class": exc.error_class, "message": exc.message}
            if isinstance(exc, DecodeError)
            else {"class": None, "message": f"the Schema Registry is unavailable: {exc}"}
        )
        data = value or b""
        shown = data[: PREVIEW_BYTES if show_pii else FRAMING_BYTES]
        return {
            "decoded": False,
            "reason": reason,
            "size": len(data),
            "hex_preview": shown.hex(" "),
            "preview_bytes": len(shown),
        }
    datum = plain(decoded.datum if show_pii else mask_event(decoded.datum))
    return {
        "decoded": True,
        "record_type": decoded.record_type,
        "wire_format": decoded.wire_format,
        "event": datum,
    }


def document(view: DeadLetterView, decoder: EventDecoder, show_pii: bool) -> dict[str, Any]:
    """The `show` object (the same for the table form and `--json`)."""
    originals = {
        name: _header_text(raw)
        if show_pii or name in PLAIN_HEADERS
        else mask_value(_header_text(raw))
        for name, raw in view.original_headers()
    }
    return {
        **view.summary(),
        "failed_at": view.failed_at,
        "message": view.message,
        "detail": view.detail,
        "traceparent": view.traceparent(),
        "key": None if view.key is None else view.key.decode("utf-8", "replace"),
        "original_headers": originals,
        "value": decode_value(view.value, decoder, show_pii),
        "personal_data": "shown" if show_pii else "masked",
    }


def _header_text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", "replace")
