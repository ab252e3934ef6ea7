from __future__ import annotations

from consumer.operations.pacing import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_records_are_spread_at_the_rate() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock, clock.sleep)
    for _ in range(21):
        pacer.wait()
    assert abs(clock.now - 102.0) < 1e-9  # 20 intervals of 0.1 s after the first record


def test_idle_time_earns_no_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock, clock.sleep)
    pacer.wait()
    clock.now += 60
    pacer.wait()
    pacer.wait()
    assert clock.slept == [0.1] or abs(sum(clock.slept) - 0.1) < 1e-9


def test_no_rate_never_waits() -> None:
    clock = FakeClock()
    pacer = Pacer(None, clock, clock.sleep)
    for _ in range(1000):
        pacer.wait()
    assert clock.slept == []
