"""Step 1: Avro bytes -> record type and datum (wire format detected per message)."""

from __future__ import annotations

from typing import Any, Protocol

from consumer.pipeline.errors import DeadLetter, MessageRejected
from consumer.pipeline.record import DECODED, SourceRecord
from consumer.pipeline.step import DeadLetterSink, Forwarding, Step
from schemas.avro.errors import DecodeError, TransientDecodeError


class Decoded(Protocol):
    @property
    def record_type(self) -> str: ...
    @property
    def datum(self) -> dict[str, Any]: ...


class Decoder(Protocol):
    def decode(self, value: bytes | None) -> Decoded: ...


class DecodeStep(Forwarding):
    def __init__(self, decoder: Decoder, next_step: Step, dead_letters: DeadLetterSink) -> None:
        self._decoder = decoder
        self._next = next_step
        self._dead_letters = dead_letters

    def submit(self, record: SourceRecord) -> None:
        if record.progress < DECODED:
            refused: DeadLetter | None = None
            try:
                decoded = self._decoder.decode(record.value)
            except DecodeError as exc:
                refused = DeadLetter(exc.error_class, exc.message, "decode")
                record.event_type = exc.record_type
            except TransientDecodeError as exc:
                # The registry is down: keep the record, the source pauses and offers it again.
                raise MessageRejected(str(exc)) from None
            if refused is not None:
                # Outside the handler: `DeadLetterSink.dead_letter` says why.
                self._dead_letters.dead_letter(record, refused)
                return
            record.event_type = decoded.record_type
            record.datum = decoded.datum
            record.progress = DECODED
        # A record the next step refused keeps its decoded datum, so it is not decoded twice.
        self._next.submit(record)
