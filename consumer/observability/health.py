"""The health endpoints of `run` (docs/DESIGN.md §14), on `PROFILE_SYNC_HEALTH_PORT`.

- `/livez`: 200 while the poll loop ticked within `max.poll.interval.ms / 2`, 503 otherwise (a
  poll thread blocked that long would soon be thrown out of its group: restart the pod);
- `/readyz`: 200 once the start-up checks passed and the consumer joined its group, 503 before
  (a start-up check that fails never gets there: the process exits);
- `/metrics`: the Prometheus text format, when `OTEL_METRICS_EXPORTER=prometheus`.

A stdlib threaded HTTP server in a daemon thread: a probe never waits for the poll thread, and the
runtime needs no web stack.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final

import structlog

_log = structlog.get_logger(__name__)

TEXT: Final = "text/plain; charset=utf-8"


class Health:
    """What the probes answer from. `tick` is called by the poll thread; the rest by probes."""

    def __init__(self, max_silence_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_silence_s = max_silence_s
        self._clock = clock
        # Start-up counts as a tick: the checks before the first poll take their time.
        self._ticked_at = clock()
        self._checked = False
        self._joined: Callable[[], bool] = lambda: False

    def tick(self, now: float | None = None) -> None:
        self._ticked_at = self._clock() if now is None else now

    def checks_passed(self, joined: Callable[[], bool]) -> None:
        """Start-up checks are done; ready as soon as `joined()` says the member is in its
        group."""
        self._joined = joined
        self._checked = True

    def live(self) -> bool:
        return self._clock() - self._ticked_at <= self._max_silence_s

    def silent_for(self) -> float:
        return self._clock() - self._ticked_at

    def ready(self) -> bool:
        if not self._checked:
            return False
        try:
            return self._joined()
        except Exception:  # a closed consumer: not ready, and not the probe's problem
            return False


def _handler(health: Health, metrics: Callable[[], tuple[bytes, str]] | None) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/livez":
                live = health.live()
                self._answer(200 if live else 503, b"ok\n" if live else b"poll loop stalled\n")
            elif path == "/readyz":
                ready = health.ready()
                self._answer(200 if ready else 503, b"ok\n" if ready else b"not ready\n")
            elif path == "/metrics" and metrics is not None:
                body, content_type = metrics()
                self._answer(200, body, content_type)
            else:
                self._answer(404, b"not found\n")

        def _answer(self, status: int, body: bytes, content_type: str = TEXT) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # probes every few seconds are not worth a log line

    return Handler


def prometheus_text() -> tuple[bytes, str]:
    """The default registry (where the OpenTelemetry Prometheus reader registers) as text."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class HealthServer:
    """Serves `health` on `port` (0.0.0.0: the kubelet probes the pod's address)."""

    def __init__(
        self,
        health: Health,
        port: int,
        *,
        host: str = "0.0.0.0",  # noqa: S104
        metrics: Callable[[], tuple[bytes, str]] | None = None,
    ) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler(health, metrics))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="profile-sync-health", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        _log.info("health_server_started", port=self.port)
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
