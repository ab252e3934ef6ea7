"""The fault set of `POST /_emulator/faults` and the per-request decision it drives.

Pinned by docs/DESIGN.md §8. A fault set applies to requests whose area is in its scope
(`inlet`, `platform`, `ims`, or `all`); the admin API is never faulted. Order for one request:
outage (503 answer, or a refused/aborted connection), latency (+ uniform jitter), dropped
connection, then an error answer whose status is drawn uniformly from `statuses`.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

Area = Literal["inlet", "platform", "ims"]


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    statuses: list[int] = Field(default_factory=lambda: [500], min_length=1)
    retry_after_s: int | None = Field(None, ge=0)
    latency_ms: int = Field(0, ge=0)
    latency_jitter_ms: int = Field(0, ge=0)
    outage_s: float = Field(0.0, ge=0.0)
    outage_mode: Literal["503", "refuse"] = "503"
    drop_connection_rate: float = Field(0.0, ge=0.0, le=1.0)
    scope: Literal["inlet", "platform", "ims", "all"] = "inlet"

    @field_validator("statuses")
    @classmethod
    def _http_errors(cls, value: list[int]) -> list[int]:
        if any(not 400 <= s <= 599 for s in value):
            raise ValueError("statuses must be HTTP error codes (400-599)")
        return value

    @field_validator("outage_mode", mode="before")
    @classmethod
    def _mode_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


@dataclass(frozen=True)
class FaultDecision:
    """What to do with one request; all fields at their defaults = serve it normally."""

    delay_s: float = 0.0
    outage_503: bool = False
    refuse: bool = False  # outage in refuse mode: abort the connection (listener is closed)
    drop: bool = False
    status: int | None = None
    retry_after_s: int | None = None


NO_FAULT = FaultDecision()


class ListenerControl(Protocol):
    """Implemented by the real server: stop accepting TCP connections for a while."""

    def refuse_for(self, seconds: float) -> None: ...


class FaultController:
    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        # Fault draws need speed and optional reproducibility, not secrecy.
        self._random = random.Random(seed)  # noqa: S311
        self._spec = FaultSpec()
        self._set_at = time.monotonic()

    def replace(self, spec: FaultSpec) -> None:
        with self._lock:
            self._spec = spec
            self._set_at = time.monotonic()

    def clear(self) -> None:
        self.replace(FaultSpec())

    @property
    def spec(self) -> FaultSpec:
        with self._lock:
            return self._spec

    def decide(self, area: Area) -> FaultDecision:
        with self._lock:
            spec = self._spec
            if spec.scope not in ("all", area):
                return NO_FAULT
            if self._set_at + spec.outage_s > time.monotonic():
                if spec.outage_mode == "refuse":
                    return FaultDecision(refuse=True)
                return FaultDecision(outage_503=True, retry_after_s=spec.retry_after_s)
            delay_s = 0.0
            if spec.latency_ms or spec.latency_jitter_ms:
                jitter = self._random.uniform(0, spec.latency_jitter_ms)
                delay_s = (spec.latency_ms + jitter) / 1000.0
            if spec.drop_connection_rate and self._random.random() < spec.drop_connection_rate:
                return FaultDecision(delay_s=delay_s, drop=True)
            if spec.error_rate and self._random.random() < spec.error_rate:
                return FaultDecision(
                    delay_s=delay_s,
                    status=self._random.choice(spec.statuses),
                    retry_after_s=spec.retry_after_s,
                )
            return FaultDecision(delay_s=delay_s) if delay_s else NO_FAULT
