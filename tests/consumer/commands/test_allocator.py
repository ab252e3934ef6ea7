"""`run` limits glibc's malloc arenas unless the operator set MALLOC_ARENA_MAX."""

from __future__ import annotations

import ctypes
import platform
from typing import Any, cast

from consumer.commands.allocator import ARENAS, limit_malloc_arenas


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
