"""The dead-letter producer and the header contract of docs/DESIGN.md §7.

Key, value and original headers are copied unchanged, first; then the Kafka Connect error
headers and the service's own. A record is accounted for only when its dead-letter write is
acknowledged, so no commit can cover an unacknowledged write. A write that still fails after the
producer's own retries stops the consumer (`DeadLetterWriteFailed`): nothing past it is committed.

A copy too large for the producer's `message.max.bytes` or the topic's `max.message.bytes` is
written again without its value, marked by `profile_sync.value.omitted` (the value's size): one
record must not stop the consumer at every restart. The broker refuses whole batches, so a copy
batched with a too large one loses its value too. Any other produce error is a failed write.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import orjson
import structlog
from confluent_kafka import KafkaError, KafkaException
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind

from consumer.aep.scrub import scrub
from consumer.config import exit_codes
from consumer.kafka.acknowledged import AcknowledgedWriter
from consumer.observability import tracing
from consumer.observability.metrics import Metrics
from consumer.pipeline.errors import DeadLetter, DeadLetterWriteFailed
from consumer.pipeline.guard import DeadLetterGuard
from consumer.pipeline.record import Header, SourceRecord
from consumer.pipeline.step import Step
from schemas import replay_headers

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
H_VALUE_OMITTED: Final = "profile_sync.value.omitted"


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
    record: SourceRecord,
    reason: DeadLetter,
    failed_at: datetime,
    *,
    value_omitted: int | None = None,
) -> list[Header]:
    """All headers of the dead-letter copy of `record`, original ones first, in order.
    `value_omitted`: the size of the value the copy goes without (too large to write)."""
    headers: list[Header] = list(record.headers or ())
    # A replayed or redriven record names its original source record (docs/DESIGN.md §12), so
    # that a redrive of this dead letter finds it again.
    topic, partition, offset = record.source_coordinates
    ours: list[tuple[str, str]] = [
        (H_TOPIC, topic),
        (H_PARTITION, str(partition)),
        (H_OFFSET, str(offset)),
        (H_EXCEPTION_CLASS, f"profile_sync.{reason.stage.capitalize()}Error"),
        (H_EXCEPTION_MESSAGE, _scrubbed(reason.message)),
        (H_STAGE, reason.stage),
        (H_CLASS, reason.error_class),
        (H_DETAIL, orjson.dumps(_scrub_detail(reason.detail)).decode()),
        (H_ATTEMPTS, str(_attempts(record))),
        (H_FAILED_AT, format_time(failed_at)),
    ]
    replay = record.replay
    if replay is not None:
        if replay.replay_id is not None:
            ours.append((replay_headers.REPLAY_ID, replay.replay_id))
        if replay.redrive_id is not None:
            ours.append((replay_headers.REDRIVE_ID, replay.redrive_id))
    if record.event_type is not None:
        ours.append((H_EVENT_TYPE, record.event_type))
    if record.customer_id is not None:
        ours.append((H_CUSTOMER_ID, str(record.customer_id)))
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if "traceparent" in carrier:
        ours.append((H_TRACEPARENT, carrier["traceparent"]))
    if value_omitted is not None:
        ours.append((H_VALUE_OMITTED, str(value_omitted)))
    headers.extend((name, value.encode()) for name, value in ours)
    return headers


def _attempts(record: SourceRecord) -> int:
    """Delivery attempts so far. A redriven record that fails again has one more than its dead
    letter had, even when it failed before being sent (so `dlq stats` shows what a redrive
    fixed); attempts made this time beyond the first add up."""
    before = None if record.replay is None else record.replay.attempts
    if before is None:
        return record.attempts
    return before + max(1, record.attempts)


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


# (record, reason, tries without the value: 0 for the whole copy)
_Copy = tuple[SourceRecord, DeadLetter, int]


class DeadLetterProducer(AcknowledgedWriter[_Copy, Producer]):
    """The dead-letter sink every step writes to. Poll thread only (delivery reports arrive in
    `poll`, which the poll thread calls; the write order is `AcknowledgedWriter`'s)."""

    def __init__(
        self,
        producer: Producer,
        topic: str,
        accounted: Step,
        metrics: Metrics,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        guard: DeadLetterGuard | None = None,
    ) -> None:
        super().__init__(producer)
        self._guard = guard
        self._topic = topic
        self._accounted = accounted
        self._metrics = metrics
        self._clock = clock

    def dead_letter(self, record: SourceRecord, reason: DeadLetter) -> None:
        if self._guard is not None:
            self._guard.dead_letter(record)  # raises (exit 4) instead of writing when tripped
        self._offer((record, reason, 0))
        self.raise_failure()

    def _write(self, write: _Copy) -> bool:
        return self._produce(*write)

    def _span(self, record: SourceRecord, reason: DeadLetter) -> Span | None:
        """The write's producer span: in the trace of the AEP batch that refused the record,
        or a trace of its own; linked to the record's incoming trace context. Its context is
        what `profile_sync.traceparent` names."""
        if not tracing.enabled():
            return None
        parent = record.trace_context
        incoming = tracing.incoming(record.headers)
        attributes: dict[str, str | int] = {
            **tracing.kafka_producer_attributes(self._topic),
            "profile_sync.error.class": reason.error_class,
            "profile_sync.error.stage": reason.stage,
            "profile_sync.source.topic": record.topic,
            "profile_sync.source.partition": record.partition,
            "profile_sync.source.offset": record.offset,
        }
        if record.customer_id is not None:
            attributes["profile_sync.customer_id"] = str(record.customer_id)
        return tracing.TRACER.start_span(
            f"send {self._topic}",
            context=None
            if parent is None
            else trace.set_span_in_context(trace.NonRecordingSpan(parent)),
            kind=SpanKind.PRODUCER,
            links=[] if incoming is None else [trace.Link(incoming)],
            attributes=attributes,
        )

    def _produce(self, record: SourceRecord, reason: DeadLetter, tries: int) -> bool:
        """Hand one copy to the producer, without the value from the first try on (`tries`);
        False when the producer's queue is full (retried from poll)."""
        omit = tries > 0 and bool(record.value)
        span = self._span(record, reason)
        try:
            with trace.use_span(span or trace.INVALID_SPAN, end_on_exit=False):
                headers = dead_letter_headers(
                    record,
                    reason,
                    self._clock(),
                    value_omitted=len(record.value or b"") if omit else None,
                )
            self._producer.produce(
                self._topic,
                key=record.key,
                value=None if omit else record.value,
                headers=headers,
                on_delivery=functools.partial(self._delivered, record, reason, tries, span),
            )
        except BufferError:
            _end(span, "queue_full")
            return False  # the producer's queue is full: retried from poll()
        except KafkaException as exc:
            error = exc.args[0] if exc.args else exc
            _end(span, type(error).__name__)
            if _too_large(error) and tries == 0 and record.value:
                return self._produce(record, reason, 1)
            self._fail(record, error, "was refused by the producer")
            return True  # never written, never accounted: nothing past it is committed
        self._unacknowledged += 1
        return True

    def _delivered(
        self,
        record: SourceRecord,
        reason: DeadLetter,
        tries: int,
        span: Span | None,
        error: Any,
        _msg: Any,
    ) -> None:
        self._unacknowledged -= 1
        _end(
            span, None if error is None else str(error.name() if hasattr(error, "name") else error)
        )
        if error is not None:
            if _too_large(error) and tries < _SIZE_TRIES and self._failure is None:
                # The topic's max.message.bytes is below the producer's message.max.bytes. The
                # broker refuses a whole batch: a copy may have been refused for a batch-mate's
                # size, so a copy without its value is tried again a few times.
                if not self._produce(record, reason, tries + 1):
                    self._backlog.appendleft((record, reason, tries + 1))
                return
            self._fail(record, error, "failed after the producer's retries")
            return
        if self._failure is not None:
            return  # stopping: nothing past the failed write may be accounted for
        self._metrics.dead_letter(reason.error_class, reason.stage)
        if record.replay is not None:
            self._metrics.replayed("dead_lettered")
        self._accounted.submit(record)

    def _fail(self, record: SourceRecord, error: Any, how: str) -> None:
        _log.error(
            "dead_letter_write_failed",
            partition=record.partition,
            offset=record.offset,
            kafka_error=str(error),
        )
        if self._failure is None:
            self._failure = DeadLetterWriteFailed(
                f"dead-letter write to {self._topic} {how} ({error}); stopping without "
                f"committing past {record.topic}[{record.partition}]@{record.offset}",
                DLQ_WRITE_FAILED_EXIT,
            )


def _end(span: Span | None, error_type: str | None) -> None:
    if span is None:
        return
    if error_type is not None:
        span.set_attribute("error.type", error_type)
        span.set_status(trace.StatusCode.ERROR)
    span.end()


# Tries of a copy without its value after the topic refused it as too large.
_SIZE_TRIES: Final = 3


def _too_large(error: Any) -> bool:
    return isinstance(error, KafkaError) and error.code() == KafkaError.MSG_SIZE_TOO_LARGE
