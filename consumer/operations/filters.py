"""The filters every `dlq` subcommand shares. Partition and offset filters name the *source*
record (the coordinates an operator finds in lag graphs and logs), not the dead-letter topic."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime

from consumer.operations.dead_letter_view import DeadLetterView
from consumer.operations.errors import usage
from consumer.operations.times import to_millis
from schemas.error_classes import ERROR_CLASSES, STAGES


@dataclass(frozen=True, slots=True)
class Filters:
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    class_glob: str | None = None
    stage: str | None = None
    event_type: str | None = None
    customer_id: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None

    def check(self) -> Filters:
        """Refuse filters that can match nothing because they are mistyped (exit 2)."""
        if self.stage is not None and self.stage not in STAGES:
            raise usage(f"--stage {self.stage!r}: not one of {', '.join(STAGES)}")
        if self.class_glob is not None and not any(
            fnmatch.fnmatchcase(name, self.class_glob) for name in ERROR_CLASSES
        ):
            raise usage(
                f"--class {self.class_glob!r} matches no error class "
                "(the README's table lists them, e.g. decode.* or map.invalid_email)"
            )
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise usage("--since must be before --until")
        return self

    def matches(self, view: DeadLetterView) -> bool:
        if self.since is not None and view.timestamp_ms < to_millis(self.since):
            return False
        if self.until is not None and view.timestamp_ms >= to_millis(self.until):
            return False
        if self.class_glob is not None and not fnmatch.fnmatchcase(
            view.error_class or "", self.class_glob
        ):
            return False
        if self.stage is not None and view.stage != self.stage:
            return False
        if self.event_type is not None and view.event_type != self.event_type:
            return False
        if self.customer_id is not None and view.customer_id != self.customer_id:
            return False
        if self.source_partition is not None and view.source_partition != self.source_partition:
            return False
        return self.source_offset is None or view.source_offset == self.source_offset
