"""Step 0: decode, map, validate and serialise in one native call, for the records it can read.

The native core (`profile_sync_core`, built from `native/`) reads the newest shipped writer
schemas and does for them what the decode, map and validate steps do, in about a twentieth of
their CPU time (bench/README.md, sixth round). It answers None for anything it is not sure of:
another schema or wire format, anything the Python steps would refuse, an e-mail with a
non-ASCII domain. Such a record goes through the Python steps, which stay the reference and word
every refusal. `tests/native` checks that both give the same bytes and notes for every record the
core takes.
"""

from __future__ import annotations

from typing import Protocol

from consumer.observability.metrics import Metrics
from consumer.pipeline.record import POLLED, VALIDATED, SourceRecord
from consumer.pipeline.step import Forwarding, Step

# (short record type, customer id, is a delete, the mapper's event order (two epoch ms), the
# compact XDM JSON of the record, the mapper's notes)
Transformed = tuple[str, int, bool, int, int, bytes, tuple[str, ...]]


class Transformer(Protocol):
    def transform(self, value: bytes) -> Transformed | None: ...


class NativeCoreStep(Forwarding):
    """`python_steps`: the decode step, with map and validate behind it; `validated`: the step
    after validate. Both paths end there, so periodic work goes down the Python steps."""

    def __init__(
        self,
        core: Transformer,
        python_steps: Step,
        validated: Step,
        record_limit: int,
        metrics: Metrics | None = None,
    ) -> None:
        self._core = core
        self._next = python_steps
        self._validated = validated
        self._limit = record_limit
        self._metrics = metrics

    def submit(self, record: SourceRecord) -> None:
        value = record.value
        if record.progress == POLLED and value is not None:
            transformed = self._core.transform(value)
            # A record over AEP's limit takes the Python steps, whose validate step refuses it.
            if transformed is not None and len(transformed[5]) <= self._limit:
                record_type, customer_id, deleted, primary, secondary, entity, notes = transformed
                if notes and self._metrics is not None:
                    self._metrics.map_notes(notes)
                record.event_type = record_type
                record.customer_id = customer_id
                if deleted:
                    record.operation = "delete"
                record.ordering_key = (primary, secondary, record.source_offset)
                record.entity_json = entity
                record.progress = VALIDATED
                self._validated.submit(record)
                return
        # Also a record offered again after backpressure: the Python steps skip what it passed.
        self._next.submit(record)
