"""Counters behind `GET /_emulator/stats` (shape pinned by docs/DESIGN.md §8)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, Final

MESSAGE_COUNTERS: Final = (
    "received",  # messages in requests that passed the request-level checks
    "accepted",  # validated and stored (creates, merges and deletes)
    "rejected",  # refused in the answer itself (envelope, routing, operations)
    "failed_validation",  # acknowledged, then refused by the asynchronous validation
    "dropped_too_large",  # acknowledged, then dropped: xdmEntity over the profile record limit
    "dropped_warmup",  # acknowledged inside the dataflow warm-up window, then lost
    "deleted",  # delete operations applied (also counted in accepted)
)


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset_unlocked()

    def _reset_unlocked(self) -> None:
        self.requests_total = 0
        self.writes = 0
        self.by_status: Counter[str] = Counter()
        self.by_route: Counter[str] = Counter()
        self.messages: Counter[str] = Counter({name: 0 for name in MESSAGE_COUNTERS})

    def reset(self) -> None:
        with self._lock:
            self._reset_unlocked()

    def count_request(self, route: str, status: int | str, *, write: bool) -> None:
        with self._lock:
            self.requests_total += 1
            self.by_status[str(status)] += 1
            self.by_route[route] += 1
            if write:
                self.writes += 1

    def count_messages(self, **increments: int) -> None:
        with self._lock:
            for name, n in increments.items():
                if name not in self.messages:
                    raise KeyError(name)
                self.messages[name] += n

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": {
                    "total": self.requests_total,
                    "by_status": dict(self.by_status),
                    "by_route": dict(self.by_route),
                    "writes": self.writes,
                },
                "messages": {name: self.messages[name] for name in MESSAGE_COUNTERS},
            }
