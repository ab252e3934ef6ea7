"""glibc's malloc, tuned for `run` unless the operator set the same thing by environment variable.

**Two arenas** (`MALLOC_ARENA_MAX`). glibc gives each thread that allocates concurrently an arena
of its own (up to 8 per core), and an arena keeps the memory it once held: librdkafka's threads
(three consumers, a producer), the RocksDB background threads and the HTTP loop thread each kept
several MB of peak buffers. Few arenas let one thread reuse what another freed. One arena was
measured first (peak VmHWM with a 300,000-record backlog: 132-138 -> 124 MB) but cost a quarter
more CPU per record: the poll thread's larger allocations (serialised records, dict tables)
waited on the librdkafka threads' lock (`bench/run_all.py --only cost`: 131 against 106 µs
without the limit). Two keep the peak (1,000,000-record backlog: 125 MB) at that CPU (91 µs).

**A fixed mmap threshold** (`MALLOC_MMAP_THRESHOLD_`). glibc serves blocks of 128 KiB and more
with their own mapping, until the first such block is freed: it then raises the threshold to
that block's size (up to 32 MiB), and from then on request bodies (about half a MB each) and
the clients' large buffers come from the arenas, where what they leave free after an outage or
a drain stays part of the peak. Fixed at 128 KiB, each goes back to the kernel when freed: peaks
126 / 130 -> 119 / 122 MB in a 60-second outage, 141 -> 132 MB in a 5-minute one. Setting it
also stops the trim threshold from rising with it (glibc keeps it at twice the mmap threshold),
so the free top of the heap keeps going back to the kernel. bench/README.md, issue 22.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable, Mapping
from typing import Final

ARENAS: Final = 2
MMAP_THRESHOLD: Final = 128 * 1024  # glibc's own starting value, kept fixed
# mallopt's parameter numbers (glibc malloc.h), by the variable an operator would set instead.
_SETTINGS: Final[dict[str, tuple[int, int]]] = {
    "MALLOC_ARENA_MAX": (-8, ARENAS),  # M_ARENA_MAX
    "MALLOC_MMAP_THRESHOLD_": (-3, MMAP_THRESHOLD),  # M_MMAP_THRESHOLD
}


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None or os.uname().sysname != "Linux":
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    # musl and others have no mallopt: nothing to tune there.
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version") else None


def tune_malloc(
    environ: Mapping[str, str] = os.environ, load: Callable[[], ctypes.CDLL | None] = _glibc
) -> set[str]:
    """Apply the settings above before the clients start their threads; returns the variables
    whose setting was applied. One the operator set (glibc reads it at start) stays in force."""
    wanted = {name: setting for name, setting in _SETTINGS.items() if name not in environ}
    if not wanted:
        return set()
    libc = load()
    if libc is None:
        return set()
    return {name for name, (param, value) in wanted.items() if libc.mallopt(param, value) == 1}
