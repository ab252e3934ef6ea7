"""Step 3: the XDM record against AEP's rules, serialised once as AEP will receive it.

The compact UTF-8 JSON made here is what the inlet client sends, so the size checked is the size
AEP measures (docs/DESIGN.md §6: record = bytes of the compact JSON of `xdmEntity`).
"""

from __future__ import annotations

from typing import Final, Protocol

import orjson

from consumer.pipeline.errors import DeadLetter
from consumer.pipeline.record import VALIDATED, SourceRecord
from consumer.pipeline.step import DeadLetterSink, Forwarding, Step
from schemas.xdm import Violation

SCHEMA_VIOLATION: Final = "validate.schema_violation"
RECORD_TOO_LARGE: Final = "validate.record_too_large"
# Enough to find the problem; a record refused for hundreds of reasons needs no more in a header.
_MAX_VIOLATIONS: Final = 20


class RecordValidator(Protocol):
    def validate(self, record: object) -> list[Violation]: ...


class ValidateStep(Forwarding):
    def __init__(
        self,
        validator: RecordValidator,
        record_limit: int,
        next_step: Step,
        dead_letters: DeadLetterSink,
    ) -> None:
        self._validator = validator
        self._limit = record_limit
        self._next = next_step
        self._dead_letters = dead_letters

    def submit(self, record: SourceRecord) -> None:
        if record.progress < VALIDATED:
            assert record.record is not None
            # Deletes carry only the identity; the Data Prep delete is not schema-validated.
            if record.operation == "create":
                violations = self._validator.validate(record.record)
                if violations:
                    self._dead_letters.dead_letter(record, _violations(violations))
                    return
            entity = orjson.dumps(record.record)
            if len(entity) > self._limit:
                self._dead_letters.dead_letter(
                    record,
                    DeadLetter(
                        RECORD_TOO_LARGE,
                        f"record is {len(entity)} bytes, AEP accepts at most {self._limit}",
                        "validate",
                        {"size": len(entity), "limit": self._limit},
                    ),
                )
                return
            record.entity_json = entity
            # Serialised once for good: buffered records keep bytes, not object trees, which
            # keeps memory and the garbage collector's work small while AEP is slow.
            record.record = None
            record.progress = VALIDATED
        self._next.submit(record)


def _violations(violations: list[Violation]) -> DeadLetter:
    first = violations[0]
    return DeadLetter(
        SCHEMA_VIOLATION,
        f"{len(violations)} schema violation(s), first at {first.pointer}: {first.rule}",
        "validate",
        {
            "fields": [v.pointer for v in violations[:_MAX_VIOLATIONS]],
            "violations": [
                {"pointer": v.pointer, "keyword": v.keyword, "rule": v.rule}
                for v in violations[:_MAX_VIOLATIONS]
            ],
        },
    )
