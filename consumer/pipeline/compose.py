"""The delivery pipeline, composed by constructor: decode -> map -> validate -> batch -> send,
with the commit step accounting for every record and the dead-letter sink beside them.

    DecodeStep(MapStep(ValidateStep(BatchStep(SendStep))))  --accepted/superseded--> CommitStep
    each step --refused--> DeadLetterProducer --write acknowledged--> CommitStep
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consumer.aep.http_loop import EventLoopThread
from consumer.aep.protocol import InletSender
from consumer.kafka.dead_letters import DeadLetterProducer, Producer
from consumer.observability.metrics import Metrics
from consumer.pipeline.guard import CountingStep, DeadLetterGuard
from consumer.pipeline.lanes import CustomerLanes
from consumer.pipeline.offsets import OffsetTracker
from consumer.pipeline.record import SourceRecord
from consumer.pipeline.step import Step
from consumer.pipeline.steps.batch import BatchStep
from consumer.pipeline.steps.commit import CommitStep, Committer
from consumer.pipeline.steps.decode import Decoder, DecodeStep
from consumer.pipeline.steps.map import MapStep
from consumer.pipeline.steps.send import SendStep
from consumer.pipeline.steps.validate import RecordValidator, ValidateStep
from mappers.mapper import Mapper
from schemas.limits import RECORD_LIMIT, REQUEST_LIMIT


@dataclass(frozen=True, slots=True)
class PipelineLimits:
    max_records: int = 500
    linger_s: float = 0.2
    max_in_flight: int = 8
    max_buffered: int = 20_000
    requests_per_s: float = 1000.0
    records_per_s: float = 10_000.0
    max_request_bytes: int = REQUEST_LIMIT
    record_limit: int = RECORD_LIMIT
    retries_per_s: float = 10.0
    breaker_threshold: int = 5
    backoff_cap_s: float = 60.0


class Pipeline:
    """The composed steps; itself a step, so the Kafka source only sees `submit`/`poll`."""

    def __init__(
        self,
        *,
        decoder: Decoder,
        mapper: Mapper,
        validator: RecordValidator,
        sender: InletSender,
        loop: EventLoopThread,
        dead_letter_producer: Producer,
        dead_letter_topic: str,
        committer: Committer,
        limits: PipelineLimits,
        metrics: Metrics,
        ready_at: datetime | None = None,
        guard: DeadLetterGuard | None = None,
    ) -> None:
        self.metrics = metrics
        self.tracker = OffsetTracker()
        self.commit = CommitStep(self.tracker, committer)
        self.dead_letters = DeadLetterProducer(
            dead_letter_producer, dead_letter_topic, self.commit, metrics, guard=guard
        )
        # Accepted and superseded records also count as processed for the guard.
        accounted: Step = self.commit if guard is None else CountingStep(guard, self.commit)
        self.lanes = CustomerLanes()
        self.send = SendStep(
            sender,
            loop,
            self.lanes,
            accounted,
            self.dead_letters,
            metrics,
            max_in_flight=limits.max_in_flight,
            requests_per_s=limits.requests_per_s,
            records_per_s=limits.records_per_s,
            ready_at=ready_at,
            retries_per_s=limits.retries_per_s,
            breaker_threshold=limits.breaker_threshold,
            backoff_cap_s=limits.backoff_cap_s,
        )
        self.batch = BatchStep(
            self.lanes,
            self.send,
            accounted,
            metrics,
            max_records=limits.max_records,
            max_request_bytes=limits.max_request_bytes,
            empty_request_bytes=sender.request_size([]),
            message_overhead=sender.envelope_overhead(),
            linger_s=limits.linger_s,
            max_buffered=limits.max_buffered,
        )
        validate = ValidateStep(validator, limits.record_limit, self.batch, self.dead_letters)
        mapped = MapStep(mapper, validate, self.dead_letters, metrics)
        self.head = DecodeStep(decoder, mapped, self.dead_letters)

    def submit(self, record: SourceRecord) -> None:
        self.head.submit(record)

    def poll(self) -> None:
        self.head.poll()
        self.dead_letters.poll()
        self.commit.poll()

    def join(self, timeout: float) -> bool:
        done = self.head.join(timeout) and self.dead_letters.join(timeout)
        self.commit.join(0)
        return done

    def close(self) -> None:
        self.head.close()
        self.dead_letters.close()
