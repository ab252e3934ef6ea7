"""`run` limits glibc's malloc arenas unless the operator set MALLOC_ARENA_MAX."""

from __future__ import annotations

import ctypes
import platform
from typing import Any, cast

import pytest
from click.testing import CliRunner

from consumer.cli import main
from consumer.commands import allocator
from consumer.commands import run as run_command
from consumer.commands.allocator import ARENAS, limit_malloc_arenas
from consumer.observability import telemetry


class FakeLibc:
    def __init__(self, answer: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self._answer = answer

    def mallopt(self, parameter: int, value: int) -> int:
        self.calls.append((parameter, value))
        return self._answer


def loader(libc: Any) -> Any:
    return lambda: cast(ctypes.CDLL, libc)


def test_the_arena_limit_is_set_through_mallopt() -> None:
    libc = FakeLibc()
    assert limit_malloc_arenas({}, loader(libc))
    assert libc.calls == [(-8, ARENAS)]  # M_ARENA_MAX


def test_the_operators_malloc_arena_max_stays_in_force() -> None:
    libc = FakeLibc()
    assert not limit_malloc_arenas({"MALLOC_ARENA_MAX": "4"}, loader(libc))
    assert libc.calls == []


def test_no_glibc_or_a_refusal_is_not_an_error() -> None:
    assert not limit_malloc_arenas({}, lambda: None)
    assert not limit_malloc_arenas({}, loader(FakeLibc(answer=0)))


def test_this_platforms_allocator() -> None:
    # This limits the test process's own arenas: harmless, and it must not fail.
    assert limit_malloc_arenas({}) == (platform.libc_ver()[0] == "glibc")


def test_cli_run_limits_the_arenas_before_telemetry_and_the_clients_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Threads started before the call would each keep an arena of their own.
    calls: list[str] = []
    monkeypatch.setattr(allocator, "limit_malloc_arenas", lambda: calls.append("arenas") or True)
    configure = telemetry.configure

    def configured(**kwargs: Any) -> telemetry.Telemetry:
        calls.append("telemetry")
        return configure(**kwargs)

    def run_consumer(config_file: Any, **kwargs: Any) -> int:
        calls.append("run")
        return 0

    monkeypatch.setattr(telemetry, "configure", configured)
    monkeypatch.setattr(run_command, "run_consumer", run_consumer)
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.delenv("OTEL_METRICS_EXPORTER", raising=False)
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 0, result.output
    assert calls == ["arenas", "telemetry", "run"]
