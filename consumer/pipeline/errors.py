"""Typed signals between pipeline steps (backpressure, dead letters, stops).

A step never swallows a record: it forwards it, dead-letters it with a :class:`DeadLetter`, or
refuses to take it with :class:`MessageRejected` so that the source keeps it and pauses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Stage = Literal["decode", "map", "validate", "deliver"]


class MessageRejected(Exception):
    """Backpressure: the step cannot take the record now; offer the same record again later."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Why a record goes to the dead-letter topic (docs/DESIGN.md §7).

    `message` and `detail` never hold personal data: steps build them from field paths,
    error classes, statuses and AEP messages already scrubbed.
    """

    error_class: str
    message: str
    stage: Stage
    detail: dict[str, object] = field(default_factory=dict)


class StopConsumer(Exception):
    """A fault that stops the consumer; `exit_code` is the process exit code (docs/DESIGN.md §3)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class DeadLetterWriteFailed(StopConsumer):
    """A dead-letter write failed after the producer's retries: stop, commit nothing past it."""
