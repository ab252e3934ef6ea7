"""`run` tunes glibc's malloc (two arenas, a fixed mmap threshold) unless the operator set the
same by environment variable."""

from __future__ import annotations

import ctypes
import platform
from typing import Any, cast

import pytest
from click.testing import CliRunner

from consumer.cli import main
from consumer.commands import allocator
from consumer.commands import run as run_command
from consumer.commands.allocator import ARENAS, MMAP_THRESHOLD, tune_malloc
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


def test_two_arenas_and_a_fixed_mmap_threshold_are_set_through_mallopt() -> None:
    libc = FakeLibc()
    assert tune_malloc({}, loader(libc)) == {"MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"}
    assert sorted(libc.calls) == [(-8, ARENAS), (-3, MMAP_THRESHOLD)]  # M_ARENA_MAX, M_MMAP_...
    assert MMAP_THRESHOLD == 128 * 1024


@pytest.mark.parametrize(
    ("operator", "kept"),
    [
        ({"MALLOC_ARENA_MAX": "4"}, [(-3, MMAP_THRESHOLD)]),
        ({"MALLOC_MMAP_THRESHOLD_": "1048576"}, [(-8, ARENAS)]),
        ({"MALLOC_ARENA_MAX": "4", "MALLOC_MMAP_THRESHOLD_": "1048576"}, []),
    ],
)
def test_the_operators_malloc_variables_stay_in_force(
    operator: dict[str, str], kept: list[tuple[int, int]]
) -> None:
    libc = FakeLibc()
    applied = tune_malloc(operator, loader(libc))
    assert libc.calls == kept
    assert applied.isdisjoint(operator)


def test_no_glibc_or_a_refusal_is_not_an_error() -> None:
    assert tune_malloc({}, lambda: None) == set()
    assert tune_malloc({}, loader(FakeLibc(answer=0))) == set()


def test_this_platforms_allocator() -> None:
    # This tunes the test process's own allocator: harmless, and it must not fail.
    glibc = platform.libc_ver()[0] == "glibc"
    assert bool(tune_malloc({})) == glibc


def test_cli_run_tunes_malloc_before_telemetry_and_the_clients_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Threads started before the call would each keep an arena of their own.
    calls: list[str] = []
    monkeypatch.setattr(allocator, "tune_malloc", lambda: calls.append("malloc") or set())
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
    assert calls == ["malloc", "telemetry", "run"]
