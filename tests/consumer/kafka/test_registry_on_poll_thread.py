"""A Schema Registry that hangs costs the poll thread well under a second per lookup: `run`
builds its registry client with a short timeout and the record is offered again later."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from consumer.commands.run import POLL_THREAD_REGISTRY_S
from schemas.avro import ConfluentRegistryClient, EventDecoder, WriterSchemaRegistry
from schemas.avro.errors import TransientDecodeError


@pytest.fixture
def hanging_registry() -> Iterator[str]:
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        server.close()


def test_a_hanging_registry_blocks_a_lookup_for_well_under_a_second(
    hanging_registry: str,
) -> None:
    client = ConfluentRegistryClient(hanging_registry, timeout_s=POLL_THREAD_REGISTRY_S)
    decoder = EventDecoder(WriterSchemaRegistry.load(None), client)
    confluent_framed = b"\x00" + struct.pack(">I", 4242) + b"\x02"
    try:
        started = time.monotonic()
        with pytest.raises(TransientDecodeError):
            decoder.decode(confluent_framed)
        assert time.monotonic() - started < 1.0
    finally:
        client.close()
