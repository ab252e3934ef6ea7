"""One dead-letter record as the `dlq` command sees it, with the stable field names of
`dlq list --json` (documented in the README; scripts and `redrive --from-file` rely on them).

Only the service's own headers are read into fields: none of them holds personal data (the
pipeline scrubs messages and details before writing them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson

from consumer.kafka import dead_letters as h
from consumer.operations.times import iso_millis
from schemas import replay_headers

Header = tuple[str, bytes | None]

# The headers the service adds to a dead letter; every other header is the source record's own.
SERVICE_HEADERS: Final = frozenset(
    {
        h.H_TOPIC,
        h.H_PARTITION,
        h.H_OFFSET,
        h.H_EXCEPTION_CLASS,
        h.H_EXCEPTION_MESSAGE,
        h.H_STAGE,
        h.H_CLASS,
        h.H_DETAIL,
        h.H_ATTEMPTS,
        h.H_FAILED_AT,
        h.H_EVENT_TYPE,
        h.H_CUSTOMER_ID,
        h.H_TRACEPARENT,
    }
)
H_REDRIVE_ID: Final = replay_headers.REDRIVE_ID


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    partition: int  # of the dead-letter topic
    offset: int
    timestamp_ms: int  # the dead-letter record's Kafka timestamp
    source_topic: str | None
    source_partition: int | None
    source_offset: int | None
    stage: str | None
    error_class: str | None
    event_type: str | None
    customer_id: str | None
    attempts: int | None
    failed_at: str | None
    status: int | None  # AEP's HTTP status, for deliver-stage dead letters
    redrive_id: str | None
    message: str | None
    detail: Any
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]

    @property
    def time(self) -> str:
        return iso_millis(self.timestamp_ms)

    def summary(self) -> dict[str, Any]:
        """The `list --json` object: no key, value or original header (personal data)."""
        return {
            "partition": self.partition,
            "offset": self.offset,
            "time": self.time,
            "source_topic": self.source_topic,
            "source_partition": self.source_partition,
            "source_offset": self.source_offset,
            "stage": self.stage,
            "class": self.error_class,
            "event_type": self.event_type,
            "customer_id": self.customer_id,
            "attempts": self.attempts,
            "status": self.status,
            "redrive_id": self.redrive_id,
        }

    def traceparent(self) -> str | None:
        """`profile_sync.traceparent`: the trace of the failed processing (tracing on)."""
        found = [v for k, v in self.headers if k == h.H_TRACEPARENT]
        return _text(found[-1]) if found else None

    def original_headers(self) -> list[Header]:
        """The source record's headers, as the dead letter copied them (before the service's)."""
        return [(k, v) for k, v in self.headers if k not in SERVICE_HEADERS and k != H_REDRIVE_ID]


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", "replace")


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def view_of(message: Any) -> DeadLetterView:
    """From a `confluent_kafka.Message` of the dead-letter topic."""
    headers: tuple[Header, ...] = tuple(message.headers() or ())
    # The service's headers come last, after the copied originals: the last of a name wins.
    ours: dict[str, str] = {}
    for name, raw in headers:
        if name in SERVICE_HEADERS or name == H_REDRIVE_ID:
            text = _text(raw)
            if text is not None:
                ours[name] = text
    detail: Any = None
    if h.H_DETAIL in ours:
        try:
            detail = orjson.loads(ours[h.H_DETAIL])
        except orjson.JSONDecodeError:
            detail = ours[h.H_DETAIL]
    status = detail.get("status") if isinstance(detail, dict) else None
    key: bytes | None = message.key()
    customer = ours.get(h.H_CUSTOMER_ID)
    if customer is None and key:
        # Commerce keys records by customer id: the best answer when the value did not decode.
        customer = key.decode("utf-8", "replace")
    _kind, timestamp = message.timestamp()
    return DeadLetterView(
        partition=message.partition(),
        offset=message.offset(),
        timestamp_ms=int(timestamp),
        source_topic=ours.get(h.H_TOPIC),
        source_partition=_int(ours.get(h.H_PARTITION)),
        source_offset=_int(ours.get(h.H_OFFSET)),
        stage=ours.get(h.H_STAGE),
        error_class=ours.get(h.H_CLASS),
        event_type=ours.get(h.H_EVENT_TYPE),
        customer_id=customer,
        attempts=_int(ours.get(h.H_ATTEMPTS)),
        failed_at=ours.get(h.H_FAILED_AT),
        status=status if isinstance(status, int) else None,
        redrive_id=ours.get(H_REDRIVE_ID),
        message=ours.get(h.H_EXCEPTION_MESSAGE),
        detail=detail,
        key=key,
        value=message.value(),
        headers=headers,
    )
