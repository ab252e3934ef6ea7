"""Step 2: Commerce event -> XDM record (upsert or delete) with its ordering key."""

from __future__ import annotations

from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import DeadLetter
from consumer.pipeline.record import MAPPED, SourceRecord
from consumer.pipeline.step import DeadLetterSink, Forwarding, Step
from mappers.mapper import Mapper
from mappers.results import Delete, MapFailure


class MapStep(Forwarding):
    def __init__(
        self,
        mapper: Mapper,
        next_step: Step,
        dead_letters: DeadLetterSink,
        metrics: Metrics | None = None,
    ) -> None:
        self._mapper = mapper
        self._next = next_step
        self._dead_letters = dead_letters
        self._metrics = metrics

    def submit(self, record: SourceRecord) -> None:
        if record.progress < MAPPED:
            assert record.datum is not None
            assert record.event_type is not None
            # The datum is the decode step's: it follows the shipped reader schema.
            result = self._mapper.map_decoded(record.event_type, record.datum)
            if isinstance(result, MapFailure):
                record.customer_id = result.customer_id
                self._dead_letters.dead_letter(
                    record,
                    DeadLetter(
                        result.error_class,
                        result.message,
                        "map",
                        {"fields": list(result.fields)},
                    ),
                )
                return
            if self._metrics is not None and not isinstance(result, Delete) and result.notes:
                self._metrics.map_notes(result.notes)
            record.customer_id = result.customer_id
            record.record = result.record
            record.operation = "delete" if isinstance(result, Delete) else "create"
            primary, secondary = result.event_order
            record.ordering_key = (primary, secondary, record.source_offset)
            record.datum = None  # mapped: the buffer keeps only what later steps need
            record.progress = MAPPED
        self._next.submit(record)
