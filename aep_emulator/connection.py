"""Access to the TCP connection of the request being served, to drop it on purpose.

The real server uses `EmulatorH11Protocol`: while it parses incoming bytes it publishes its
transport in a context variable, which the request task (created during that parse) inherits.
Under an in-process test client there is no connection; `abort_current_connection` then says so.
"""

from __future__ import annotations

import asyncio
import contextvars

from uvicorn.protocols.http.h11_impl import H11Protocol

_transport: contextvars.ContextVar[asyncio.BaseTransport | None] = contextvars.ContextVar(
    "aep_emulator_transport", default=None
)


class EmulatorH11Protocol(H11Protocol):
    def data_received(self, data: bytes) -> None:
        token = _transport.set(self.transport)
        try:
            super().data_received(data)
        finally:
            _transport.reset(token)


async def abort_current_connection() -> bool:
    """Reset the current request's connection without an answer; False if there is none."""
    transport = _transport.get()
    if transport is None:
        return False
    abort = getattr(transport, "abort", None)
    if callable(abort):
        abort()
    else:
        transport.close()
    # Let the protocol see the loss first, so the server does not try a 500 on a dead socket.
    for _ in range(3):
        await asyncio.sleep(0)
    return True


class ConnectionDropped(ConnectionResetError):
    """Raised under a test client where a real server would have dropped the connection."""
