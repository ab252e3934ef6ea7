"""Running the emulator: `serve(options)` (blocking; the `profile-sync emulator` command),
`running_emulator(options)` (a context manager for tests, the demo and benchmarks) and the
argument parser shared by both (`python -m aep_emulator --help`).

`running_emulator(..., subprocess=True)` runs it in its own interpreter, so that it does not
share a GIL with the process under test (benchmarks); the child prints its URL on its first
stdout line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import gc
import logging
import os
import socket
import ssl
import subprocess as sp
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx
import uvicorn

from aep_emulator.app import build_app
from aep_emulator.connection import EmulatorH11Protocol
from aep_emulator.options import DEFAULT_PORT, EmulatorOptions
from aep_emulator.state import EmulatorState

__all__ = [
    "EmulatorOptions",
    "RunningEmulator",
    "build_parser",
    "main",
    "options_from_args",
    "options_to_argv",
    "running_emulator",
    "serve",
]

log = logging.getLogger(__name__)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it. asyncio sets TCP_NODELAY only on sockets created with
    # proto=IPPROTO_TCP, so without this every answer's body waits ~40 ms behind its headers
    # (Nagle against the client's delayed ACK).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class UvicornListener:
    """Closes the listening socket for an outage in `refuse` mode, then listens again."""

    def __init__(self, server: uvicorn.Server, host: str, port: int) -> None:
        self._server = server
        self._host = host
        self._port = port
        self.loop: asyncio.AbstractEventLoop | None = None

    def refuse_for(self, seconds: float) -> None:
        loop = self.loop
        if loop is not None:
            loop.call_soon_threadsafe(self._close, seconds)

    def _close(self, seconds: float) -> None:
        assert self.loop is not None
        for listening in self._server.servers:
            listening.close()
        self._server.servers = []
        self.loop.call_later(seconds, lambda: asyncio.ensure_future(self._reopen()))

    async def _reopen(self) -> None:
        config = self._server.config
        protocol_class: Any = config.http_protocol_class
        protocol = functools.partial(
            protocol_class,
            config=config,
            server_state=self._server.server_state,
            app_state=self._server.lifespan.state,
        )
        for attempt in range(50):
            try:
                sock = _bind(self._host, self._port)
                break
            except OSError:  # the old socket may linger for a moment
                await asyncio.sleep(0.05 * (attempt + 1))
        else:
            log.error("could not listen again on port %s after the outage", self._port)
            return
        listening = await asyncio.get_running_loop().create_server(
            protocol, sock=sock, backlog=config.backlog, ssl=config.ssl
        )
        self._server.servers.append(listening)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, listener_holder: list[UvicornListener]) -> None:
        super().__init__(config)
        self._holder = listener_holder

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        for listener in self._holder:
            listener.loop = asyncio.get_running_loop()
        await super().startup(sockets)


def _prepare(options: EmulatorOptions) -> tuple[socket.socket, EmulatorState, _Server]:
    sock = _bind(options.host, options.port)
    actual = replace(options, port=sock.getsockname()[1])
    state = EmulatorState(actual)
    config = uvicorn.Config(
        build_app(state),
        http=EmulatorH11Protocol,
        lifespan="off",
        access_log=False,
        log_level=options.log_level,
        timeout_keep_alive=30,
        backlog=2048,
        ssl_certfile=options.tls_cert,
        ssl_keyfile=options.tls_key,
    )
    holder: list[UvicornListener] = []
    server = _Server(config, holder)
    listener = UvicornListener(server, actual.host, actual.port)
    holder.append(listener)
    state.listener = listener
    return sock, state, server


def _tune_collector() -> None:
    """Fewer collector passes: a batch request allocates hundreds of thousands of short-lived
    JSON objects, and default thresholds make the collector cost more than the parsing. What
    lives long (logs, fragments) is bytes and tuples of atoms, which the collector skips."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def serve(options: EmulatorOptions, *, announce: bool = True) -> None:
    """Run until interrupted (SIGINT/SIGTERM). Prints `emulator listening on URL` first.

    Owns its process: it tunes the garbage collector for throughput (see `_tune_collector`).
    """
    sock, state, server = _prepare(options)
    _tune_collector()
    if announce:
        print(f"emulator listening on {state.options.own_url}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        state.close()


@dataclass
class RunningEmulator:
    url: str
    options: EmulatorOptions
    # In-process only: the live state (tests may inspect it); None for a subprocess.
    state: EmulatorState | None
    _stop: Any = dataclasses.field(repr=False, default=None)
    pid: int | None = None

    def stop(self) -> None:
        if self._stop is not None:
            stop, self._stop = self._stop, None
            stop()


def _probe_tls(tls_cert: str | None) -> ssl.SSLContext | bool:
    """How the readiness probe verifies the emulator's own certificate: pinned (the served
    certificate is the trust anchor, whatever CA signed it and whatever names it carries)."""
    if tls_cert is None:
        return True
    context = ssl.create_default_context(cafile=tls_cert)
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.check_hostname = False
    return context


def _wait_ready(url: str, timeout_s: float, tls_cert: str | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    verify = _probe_tls(tls_cert)
    while True:
        try:
            if httpx.get(f"{url}/_emulator/stats", timeout=1.0, verify=verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"emulator at {url} did not come up")
        time.sleep(0.02)


@contextlib.contextmanager
def running_emulator(
    options: EmulatorOptions | None = None, *, subprocess: bool = False, timeout_s: float = 20.0
) -> Iterator[RunningEmulator]:
    """An emulator on `options.port` (default here: any free loopback port) for the block."""
    options = options or EmulatorOptions(port=0)
    running = _start_subprocess(options, timeout_s) if subprocess else _start_thread(options)
    try:
        _wait_ready(running.url, timeout_s, options.tls_cert)
        yield running
    finally:
        running.stop()


def _start_thread(options: EmulatorOptions) -> RunningEmulator:
    sock, state, server = _prepare(options)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="aep-emulator", daemon=True
    )
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        state.close()
        sock.close()

    return RunningEmulator(
        url=state.options.own_url, options=state.options, state=state, _stop=stop
    )


def _start_subprocess(options: EmulatorOptions, timeout_s: float) -> RunningEmulator:
    argv = [sys.executable, "-m", "aep_emulator", *options_to_argv(options)]
    # Our own interpreter and module with options we render ourselves: no untrusted input.
    process = sp.Popen(  # noqa: S603
        argv, stdout=sp.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    prefix = "emulator listening on "
    if not first.startswith(prefix):
        process.kill()
        process.wait()
        raise RuntimeError("emulator subprocess did not start")
    url = first[len(prefix) :]
    port = int(url.rsplit(":", 1)[1])

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except sp.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    return RunningEmulator(
        url=url, options=replace(options, port=port), state=None, _stop=stop, pid=process.pid
    )


# ---- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emulator", description="Local stand-in for AEP")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 = any free port")
    p.add_argument("--public-url", default=None, help="base of the inlet URLs handed out")
    p.add_argument("--client-id", default=None)
    p.add_argument("--client-secret", default=None)
    p.add_argument("--sandbox", action="append", default=[], help="extra sandbox (repeatable)")
    p.add_argument("--dataflow-warmup-s", type=float, default=0.0)
    p.add_argument("--require-flow-id", action="store_true")
    p.add_argument("--token-ttl-s", type=int, default=86_399)
    p.add_argument("--max-requests-per-s", type=float, default=1000.0, help="0 = no limit")
    p.add_argument("--max-messages-per-s", type=float, default=10_000.0, help="0 = no limit")
    p.add_argument("--sync-validation-per-min", type=int, default=60)
    p.add_argument("--result-format", choices=["sink", "docs"], default="sink")
    p.add_argument("--merge-mode", choices=["ingestion", "timestamp"], default="ingestion")
    p.add_argument("--no-validation", action="store_true")
    p.add_argument(
        "--validation-processes",
        type=int,
        default=1,
        help="worker processes validating records (0 = a thread of the server process)",
    )
    p.add_argument("--tenant-id", default=EmulatorOptions.tenant_id)
    p.add_argument("--log-level", default="warning")
    p.add_argument("--tls-cert", default=None, help="PEM certificate (chain): serve HTTPS")
    p.add_argument("--tls-key", default=None, help="PEM private key of --tls-cert")
    return p


def options_from_args(args: argparse.Namespace) -> EmulatorOptions:
    if (args.client_id is None) != (args.client_secret is None):
        raise SystemExit("emulator: --client-id and --client-secret go together")
    if (args.tls_cert is None) != (args.tls_key is None):
        raise SystemExit("emulator: --tls-cert and --tls-key go together")
    return EmulatorOptions(
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        client_id=args.client_id,
        client_secret=args.client_secret,
        sandboxes=tuple(args.sandbox),
        dataflow_warmup_s=args.dataflow_warmup_s,
        require_flow_id=args.require_flow_id,
        token_ttl_s=args.token_ttl_s,
        max_requests_per_s=args.max_requests_per_s,
        max_messages_per_s=args.max_messages_per_s,
        sync_validation_per_min=args.sync_validation_per_min,
        result_format=args.result_format,
        merge_mode=args.merge_mode,
        validation=not args.no_validation,
        validation_processes=args.validation_processes,
        tenant_id=args.tenant_id,
        log_level=args.log_level,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )


def options_to_argv(options: EmulatorOptions) -> list[str]:
    """The command line that rebuilds `options` (used to start a subprocess)."""
    argv = [
        "--host", options.host,
        "--port", str(options.port),
        "--dataflow-warmup-s", repr(options.dataflow_warmup_s),
        "--token-ttl-s", str(options.token_ttl_s),
        "--max-requests-per-s", repr(options.max_requests_per_s),
        "--max-messages-per-s", repr(options.max_messages_per_s),
        "--sync-validation-per-min", str(options.sync_validation_per_min),
        "--result-format", options.result_format,
        "--merge-mode", options.merge_mode,
        "--validation-processes", str(options.validation_processes),
        "--tenant-id", options.tenant_id,
        "--log-level", options.log_level,
    ]  # fmt: skip
    if options.public_url:
        argv += ["--public-url", options.public_url]
    if options.client_id is not None and options.client_secret is not None:
        argv += ["--client-id", options.client_id, "--client-secret", options.client_secret]
    for sandbox in options.sandboxes:
        argv += ["--sandbox", sandbox]
    if options.require_flow_id:
        argv.append("--require-flow-id")
    if not options.validation:
        argv.append("--no-validation")
    if options.tls_cert is not None and options.tls_key is not None:
        argv += ["--tls-cert", options.tls_cert, "--tls-key", options.tls_key]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = options_from_args(args)
    logging.basicConfig(level=options.log_level.upper())
    with contextlib.suppress(KeyboardInterrupt):
        serve(options)
    return 0
