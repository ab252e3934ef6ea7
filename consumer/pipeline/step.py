"""What every processing step offers (design: one step per module, composed by constructor).

A step receives records with `submit`, does periodic work in `poll` (always on the poll thread),
and hands each record on to the next step it was constructed with, or to the dead-letter sink.
`tests/consumer/pipeline/steps/test_step_contract.py` checks every step against this contract.
"""

from __future__ import annotations

from typing import Protocol

from consumer.pipeline.errors import DeadLetter
from consumer.pipeline.record import SourceRecord


class Step(Protocol):
    def submit(self, record: SourceRecord) -> None:
        """Take one record; may raise `MessageRejected` (then nothing was taken)."""

    def poll(self) -> None:
        """Periodic work on the poll thread; must return quickly (well under a second)."""

    def join(self, timeout: float) -> bool:
        """Push out everything held, waiting at most `timeout` s; True when nothing is left."""

    def close(self) -> None:
        """Release resources; nothing is delivered afterwards."""


class Forwarding:
    """Base for a step whose only periodic work is its next step's: it hands poll, join and
    close straight on. Subclasses set `self._next` and write their own `submit`."""

    _next: Step

    def poll(self) -> None:
        self._next.poll()

    def join(self, timeout: float) -> bool:
        return self._next.join(timeout)

    def close(self) -> None:
        self._next.close()


class DeadLetterSink(Protocol):
    def dead_letter(self, record: SourceRecord, reason: DeadLetter) -> None:
        """Write the record to the dead-letter topic; it is accounted for once acknowledged.

        Never called inside an `except` block: a write made while an exception was being handled
        kept that exception alive for good when the copy was too large for Kafka (held out of
        the garbage collector's sight), and through its traceback the run's frames, its Kafka
        clients and the record's value. The step contract tests' fake sink fails such a call."""


class DeadLetterOutlet(DeadLetterSink, Protocol):
    """The dead-letter sink as the pipeline drives it: writes acknowledged in `poll` (then
    accounted for), `pending` counted against the buffer bound, flushed by `join`."""

    def pending(self) -> int:
        """Writes not yet acknowledged."""

    def poll(self) -> None: ...

    def join(self, timeout: float) -> bool: ...

    def close(self) -> None: ...
