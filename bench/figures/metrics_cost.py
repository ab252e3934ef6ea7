"""Metrics cost: consumer CPU per record with metrics off and on, in the same run.

Saturated runs (`paired_cost`), PAIRS of each, in the order off, on, on, off: off is
`OTEL_METRICS_EXPORTER=none` (the default), on is `prometheus`, what the chart's
`metrics.enabled` sets, with `/metrics` on the health port scraped every SCRAPE_S seconds while
the consumer drains (the collection's cost counts too). The figure is on / off - 1 of the
medians; the target, as for tracing, is at most +15 %.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx

from bench.figures.common import Context, Figure
from bench.figures.paired_cost import paired
from devenv.kafka_local import free_port

NAME = "metrics cost"
TARGET = 0.15
PAIRS = 2
SCRAPE_S = 2.0


class _Scraper:
    """Scrapes `/metrics` until stopped; keeps the last page that answered."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._stop = threading.Event()
        self.scrapes = 0
        self.last = ""

    def run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.wait(SCRAPE_S):
                self._scrape(client)
            self._scrape(client)  # once more at the end: what the run recorded in all

    def _scrape(self, client: httpx.Client) -> None:
        try:
            response = client.get(self._url)
        except httpx.TransportError:
            return  # not serving yet, or already gone
        if response.status_code == 200:
            self.scrapes += 1
            self.last = response.text

    def stop(self) -> None:
        self._stop.set()


def _series(page: str) -> int:
    return sum(1 for line in page.splitlines() if line and not line.startswith("#"))


def measure(ctx: Context) -> Figure:
    events = 12_000 if ctx.quick else 60_000
    pairs = 1 if ctx.quick else PAIRS
    scrapers: list[_Scraper] = []

    @contextmanager
    def scraped(env: Mapping[str, str]) -> Iterator[object]:
        scraper = _Scraper(f"http://127.0.0.1:{env['PROFILE_SYNC_HEALTH_PORT']}/metrics")
        thread = threading.Thread(target=scraper.run, name="bench-scraper", daemon=True)
        thread.start()
        try:
            yield scraper
        finally:
            scraper.stop()
            thread.join(10)
            scrapers.append(scraper)

    port = str(free_port())
    runs = paired(
        ctx,
        events,
        pairs,
        {"OTEL_METRICS_EXPORTER": "none"},
        {"OTEL_METRICS_EXPORTER": "prometheus", "PROFILE_SYNC_HEALTH_PORT": port},
        "metrics",
        beside_on=scraped,
    )
    return Figure(
        NAME,
        runs.measured(),
        f"<= +{TARGET:.0%}",
        runs.extra <= TARGET,
        [
            runs.runs(f"Prometheus, /metrics scraped every {SCRAPE_S:.0f} s")
            + f" ({events:,} events per run, order off, on, on, off; medians compared)",
            runs.by_thread(),
            "scrapes answered per run: "
            + ", ".join(str(s.scrapes) for s in scrapers)
            + f"; series on the last page: {_series(scrapers[-1].last) if scrapers else 0}",
        ],
    )
