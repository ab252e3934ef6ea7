"""glibc's malloc arenas: two for the whole process unless the operator says otherwise.

glibc gives each thread that allocates concurrently an arena of its own (up to 8 per core), and
an arena keeps the memory it once held: librdkafka's threads (three consumers, a producer), the
RocksDB background threads and the HTTP loop thread each kept several MB of peak buffers. Few
arenas let one thread reuse what another freed. One arena was measured first (peak VmHWM with a
300,000-record backlog: 132-138 -> 124 MB) but cost a quarter more CPU per record: the poll
thread's larger allocations (serialised records, dict tables) waited on the librdkafka threads'
lock (`bench/run_all.py --only cost`: 131 against 106 µs without the limit). Two keep the peak
(1,000,000-record backlog: 125 MB) at that CPU (91 µs); bench/README.md, issue 22.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable, Mapping
from typing import Final

ARENAS: Final = 2
# mallopt's parameter number for the arena limit (glibc malloc.h, M_ARENA_MAX).
_M_ARENA_MAX: Final = -8


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None or os.uname().sysname != "Linux":
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    # musl and others have no mallopt: nothing to limit there.
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version") else None


def limit_malloc_arenas(
    environ: Mapping[str, str] = os.environ, load: Callable[[], ctypes.CDLL | None] = _glibc
) -> bool:
    """Limit glibc to `ARENAS` arenas, before the clients start their threads; True when done.
    An operator's `MALLOC_ARENA_MAX` (glibc reads it at start) is left in force."""
    if "MALLOC_ARENA_MAX" in environ:
        return False
    libc = load()
    return libc is not None and libc.mallopt(_M_ARENA_MAX, ARENAS) == 1
