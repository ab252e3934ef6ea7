"""The contract between the delivery pipeline and the AEP inlet client.

The pipeline (``consumer.pipeline.steps.send``) calls an :class:`InletSender`; the client in
``consumer.aep.inlet_client`` implements it. Both sides code against this file only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "Accepted",
    "AepConfigurationFault",
    "AepProtocolError",
    "BatchResult",
    "InletSender",
    "MessageOutcome",
    "OutgoingRecord",
    "Rejected",
    "RetryMessage",
    "RetryRequest",
    "SendResult",
    "SplitRequest",
]


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    """One message of a batch."""

    key: object  # opaque to the client, returned in results (the pipeline's record handle)
    entity_json: bytes  # compact UTF-8 JSON of xdmEntity (orjson), size-checked already
    operation: Literal["create", "delete"]


@dataclass(frozen=True, slots=True)
class Accepted:
    key: object
    xaction_id: str | None


@dataclass(frozen=True, slots=True)
class RetryMessage:
    key: object
    status: int
    retry_after_s: float | None


@dataclass(frozen=True, slots=True)
class Rejected:
    key: object
    status: int
    detail: dict[str, object]  # scrubbed AEP message, xactionId


MessageOutcome = Accepted | RetryMessage | Rejected


@dataclass(frozen=True, slots=True)
class BatchResult:
    outcomes: list[Accepted | RetryMessage | Rejected]


@dataclass(frozen=True, slots=True)
class RetryRequest:
    reason: str
    status: int | None
    retry_after_s: float | None


@dataclass(frozen=True, slots=True)
class SplitRequest:
    """413: the caller splits and resends; a single record still refused is dead-lettered
    as ``deliver.request_too_large``."""


SendResult = BatchResult | RetryRequest | SplitRequest


class AepConfigurationFault(Exception):
    """401/403 after one token refresh, 404, envelope errors: stop, exit 3."""


class AepProtocolError(Exception):
    """Any other 4xx, or a 207 count mismatch twice: stop, exit 1 (our bug, never dead-letter)."""


class InletSender(Protocol):
    async def send(self, records: Sequence[OutgoingRecord]) -> SendResult: ...

    def request_size(self, records: Sequence[OutgoingRecord]) -> int:
        """Bytes of the UTF-8 JSON body as sent."""
        ...

    def envelope_overhead(self) -> int:
        """Bytes a message adds beyond entity_json, for batch sizing."""
        ...
