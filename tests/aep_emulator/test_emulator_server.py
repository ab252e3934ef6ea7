"""Running the emulator: in a thread, in a subprocess, and its command line."""

from __future__ import annotations

import httpx
import psutil  # type: ignore[import-untyped]
from starlette.testclient import TestClient

from aep_emulator.app import build_app
from aep_emulator.options import EmulatorOptions
from aep_emulator.resources import Connection
from aep_emulator.server import build_parser, options_from_args, options_to_argv, running_emulator
from aep_emulator.state import EmulatorState
from schemas.flow_specs import HTTP_API_CONNECTION_SPEC
from tests.aep_emulator.emulator_helpers import envelope, profile_record, provision


def test_running_in_a_thread_serves_every_area() -> None:
    options = EmulatorOptions(port=0, public_url="https://dcs.example.test")
    with running_emulator(options) as running:
        assert running.state is not None
        assert running.options.port != 0
        token = httpx.post(
            f"{running.url}/ims/token/v3",
            data={
                "grant_type": "client_credentials",
                "client_id": "a",
                "client_secret": "b",
                "scope": "openid",
            },
        )
        assert token.status_code == 200
        p = provision(running.state)
        # Inlet URLs handed out use the public URL.
        assert p.connection.inlet_url == f"https://dcs.example.test/collection/{p.inlet_id}"
        answer = httpx.post(
            running.url + p.batch_path,
            json={"messages": [envelope(p, profile_record())]},
            headers=p.flow_headers,
        )
        assert answer.status_code == 207
    # Stopped: nothing listens any more.
    try:
        httpx.get(f"{running.url}/_emulator/stats", timeout=1)
        raise AssertionError("still listening")
    except httpx.ConnectError:
        pass


def test_default_inlet_url_is_own_address() -> None:
    with running_emulator() as running:
        assert running.state is not None
        connection = running.state.resources.connections.add(
            Connection(name="c", connection_spec_id=HTTP_API_CONNECTION_SPEC, auth_params={})
        )
        assert connection.inlet_url == f"{running.url}/collection/{connection.inlet_id}"


def test_running_in_a_subprocess() -> None:
    options = EmulatorOptions(port=0, client_id="only", client_secret="this")
    with running_emulator(options, subprocess=True) as running:
        assert running.state is None
        assert running.pid is not None
        form = {
            "grant_type": "client_credentials",
            "client_id": "x",
            "client_secret": "y",
            "scope": "o",
        }
        refused = httpx.post(f"{running.url}/ims/token/v3", data=form)
        assert refused.json()["error"] == "invalid_client"
        good = httpx.post(
            f"{running.url}/ims/token/v3",
            data={**form, "client_id": "only", "client_secret": "this"},
        )
        assert good.status_code == 200


def test_validation_processes_end_with_the_emulator() -> None:
    state = EmulatorState(EmulatorOptions(validation_processes=1))
    try:
        p = provision(state)
        client = TestClient(build_app(state))
        client.post(p.batch_path, json={"messages": [envelope(p, profile_record())]})
        assert state.worker.wait_idle(30)
        # Workers only: multiprocessing's resource tracker lives as long as this process.
        children = [
            c
            for c in psutil.Process().children(recursive=True)
            if "spawn_main" in " ".join(c.cmdline())
        ]
        assert children
    finally:
        state.close()
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []


def test_command_line_round_trip() -> None:
    options = EmulatorOptions(
        host="127.0.0.1",
        port=9999,
        public_url="http://example.test:1",
        client_id="id",
        client_secret="secret",
        sandboxes=("dev", "stage"),
        dataflow_warmup_s=2.5,
        require_flow_id=True,
        token_ttl_s=60,
        max_requests_per_s=10.0,
        max_messages_per_s=0.0,
        sync_validation_per_min=5,
        result_format="docs",
        merge_mode="timestamp",
        validation=False,
        validation_processes=2,
        tenant_id="acme",
        log_level="info",
    )
    parsed = options_from_args(build_parser().parse_args(options_to_argv(options)))
    assert parsed == options
    # The standalone server validates in a worker process by default.
    assert options_from_args(build_parser().parse_args([])) == EmulatorOptions(
        validation_processes=1
    )
