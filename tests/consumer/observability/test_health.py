"""The probes' answers (docs/DESIGN.md §14) and the stdlib server that serves them."""

from __future__ import annotations

import httpx

from consumer.observability.health import Health, HealthServer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_live_while_the_poll_loop_ticks_within_the_limit() -> None:
    clock = Clock()
    health = Health(150.0, clock)
    clock.now += 150.0
    assert health.live()  # start-up counts as a tick
    clock.now += 0.1
    assert not health.live()
    health.tick()
    assert health.live()
    health.tick(clock.now - 151)
    assert not health.live()


def test_ready_only_after_the_checks_and_the_join() -> None:
    joined = False
    health = Health(10.0)
    assert not health.ready()
    health.checks_passed(lambda: joined)
    assert not health.ready()
    joined = True
    assert health.ready()

    def closed() -> bool:
        raise RuntimeError("Consumer closed")

    health.checks_passed(closed)
    assert not health.ready()


def test_the_server_answers_each_path() -> None:
    clock = Clock()
    health = Health(5.0, clock)
    server = HealthServer(
        health, 0, host="127.0.0.1", metrics=lambda: (b"m_total 1\n", "text/plain")
    ).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert httpx.get(f"{base}/livez").status_code == 200
        assert httpx.get(f"{base}/readyz").status_code == 503
        health.checks_passed(lambda: True)
        assert httpx.get(f"{base}/readyz").status_code == 200
        clock.now += 6
        assert httpx.get(f"{base}/livez").status_code == 503
        assert httpx.get(f"{base}/metrics").text == "m_total 1\n"
        assert httpx.get(f"{base}/other").status_code == 404
    finally:
        server.close()
    plain = HealthServer(health, 0, host="127.0.0.1").start()
    try:
        assert httpx.get(f"http://127.0.0.1:{plain.port}/metrics").status_code == 404
    finally:
        plain.close()
