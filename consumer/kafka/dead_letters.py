"""The dead-letter producer and the header contract of docs/DESIGN.md §7.

Key, value and original headers are copied unchanged, first; then the Kafka Connect error
headers and the service's own. A record is accounted for only when its dead-letter write is
acknowledged, so no commit can cover an unacknowledged write. A write that still fails after the
producer's own retries stops the consumer (`DeadLetterWriteFailed`): nothing past it is committed.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import orjson
import structlog
from opentelemetry import propagate

from consumer.aep.scrub import scrub
from consumer.config import exit_codes
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import DeadLetter, DeadLetterWriteFailed
from consumer.pipeline.guard import DeadLetterGuard
from consumer.pipeline.record import Header, SourceRecord
from consumer.pipeline.step import Step

_log = structlog.get_logger(__name__)

# docs/DESIGN.md §7 calls a failed dead-letter write a configuration fault; it is not an AEP one
# (exit 3 is documented as AEP's), so the process stops as an unexpected error.
DLQ_WRITE_FAILED_EXIT: Final = exit_codes.ERROR

H_TOPIC: Final = "__connect.errors.topic"
H_PARTITION: Final = "__connect.errors.partition"
H_OFFSET: Final = "__connect.errors.offset"
H_EXCEPTION_CLASS: Final = "__connect.errors.exception.class.name"
H_EXCEPTION_MESSAGE: Final = "__connect.errors.exception.message"
H_STAGE: Final = "profile_sync.error.stage"
H_CLASS: Final = "profile_sync.error.class"
H_DETAIL: Final = "profile_sync.error.detail"
H_ATTEMPTS: Final = "profile_sync.attempts"
H_FAILED_AT: Final = "profile_sync.failed_at"
H_EVENT_TYPE: Final = "profile_sync.event_type"
H_CUSTOMER_ID: Final = "profile_sync.customer_id"
H_TRACEPARENT: Final = "profile_sync.traceparent"


def format_time(moment: datetime) -> str:
    """`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` in UTC."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# Only this much of a text is scrubbed (the result is cut to 1 KB anyway): scrubbing time grows
# faster than the text, and AEP's messages can be long.
_SCRUB_INPUT_CHARS: Final = 4096


def _scrubbed(text: str) -> str:
    return scrub(text[:_SCRUB_INPUT_CHARS])


def _scrub_detail(value: Any) -> Any:
    if isinstance(value, str):
        return _scrubbed(value)
    if isinstance(value, dict):
        return {str(k): _scrub_detail(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_detail(v) for v in value]
    return value


def dead_letter_headers(
    record: SourceRecord, reason: DeadLetter, failed_at: datetime
) -> list[Header]:
    """All headers of the dead-letter copy of `record`, original ones first, in order."""
    headers: list[Header] = list(record.headers or ())
    ours: list[tuple[str, str]] = [
        (H_TOPIC, record.topic),
        (H_PARTITION, str(record.partition)),
        (H_OFFSET, str(record.offset)),
        (H_EXCEPTION_CLASS, f"profile_sync.{reason.stage.capitalize()}Error"),
        (H_EXCEPTION_MESSAGE, _scrubbed(reason.message)),
        (H_STAGE, reason.stage),
        (H_CLASS, reason.error_class),
        (H_DETAIL, orjson.dumps(_scrub_detail(reason.detail)).decode()),
        (H_ATTEMPTS, str(record.attempts)),
        (H_FAILED_AT, format_time(failed_at)),
    ]
    if record.event_type is not None:
        ours.append((H_EVENT_TYPE, record.event_type))
    if record.customer_id is not None:
        ours.append((H_CUSTOMER_ID, str(record.customer_id)))
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if "traceparent" in carrier:
        ours.append((H_TRACEPARENT, carrier["traceparent"]))
    headers.extend((name, value.encode()) for name, value in ours)
    return headers


class Producer(Protocol):
    """The part of `confluent_kafka.Producer` used here."""

    def produce(
        self,
        topic: str,
        value: bytes | None = ...,
        key: bytes | None = ...,
        *,
        on_delivery: Callable[[Any, Any], None] | None = ...,
        headers: Any = ...,
    ) -> None: ...
    def poll(self, timeout: float) -> int: ...
    def flush(self, timeout: float) -> int: ...


class DeadLetterProducer:
    """The dead-letter sink every step writes to. Poll thread only (delivery reports arrive in
    `poll`, which the poll thread calls)."""

    def __init__(
        self,
        producer: Producer,
        topic: str,
        accounted: Step,
        metrics: Metrics,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        guard: DeadLetterGuard | None = None,
    ) -> None:
        self._producer = producer
        self._guard = guard
        self._topic = topic
        self._accounted = accounted
        self._metrics = metrics
        self._clock = clock
        self._backlog: deque[tuple[SourceRecord, DeadLetter]] = deque()
        self._unacknowledged = 0
        self._failure: DeadLetterWriteFailed | None = None

    def dead_letter(self, record: SourceRecord, reason: DeadLetter) -> None:
        if self._guard is not None:
            self._guard.dead_letter(record)  # raises (exit 4) instead of writing when tripped
        if self._backlog or not self._produce(record, reason):
            self._backlog.append((record, reason))

    def pending(self) -> int:
        """Writes not yet acknowledged (or not yet handed to the producer)."""
        return self._unacknowledged + len(self._backlog)

    def poll(self) -> None:
        self._producer.poll(0)
        while self._backlog and self._produce(*self._backlog[0]):
            self._backlog.popleft()
        self.raise_failure()

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def join(self, timeout: float) -> bool:
        self.poll()
        if self._unacknowledged:
            self._producer.flush(timeout)
        self.poll()
        return self.pending() == 0

    def close(self) -> None:
        self._producer.flush(0)

    def _produce(self, record: SourceRecord, reason: DeadLetter) -> bool:
        try:
            self._producer.produce(
                self._topic,
                key=record.key,
                value=record.value,
                headers=dead_letter_headers(record, reason, self._clock()),
                on_delivery=functools.partial(self._delivered, record, reason),
            )
        except BufferError:
            return False  # the producer's queue is full: retried from poll()
        self._unacknowledged += 1
        return True

    def _delivered(self, record: SourceRecord, reason: DeadLetter, error: Any, _msg: Any) -> None:
        self._unacknowledged -= 1
        if error is not None:
            _log.error(
                "dead_letter_write_failed",
                partition=record.partition,
                offset=record.offset,
                kafka_error=str(error),
            )
            if self._failure is None:
                self._failure = DeadLetterWriteFailed(
                    f"dead-letter write to {self._topic} failed after the producer's retries "
                    f"({error}); stopping without committing past "
                    f"{record.topic}[{record.partition}]@{record.offset}",
                    DLQ_WRITE_FAILED_EXIT,
                )
            return
        if self._failure is not None:
            return  # stopping: nothing past the failed write may be accounted for
        self._metrics.dead_letter(reason.error_class, reason.stage)
        self._accounted.submit(record)
