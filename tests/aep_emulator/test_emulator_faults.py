"""Every fault kind of docs/DESIGN.md §8, by scope; dropped and refused connections through a
real server."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from aep_emulator.connection import ConnectionDropped
from aep_emulator.inlet import INLET_PROBLEM_TYPE
from aep_emulator.options import EmulatorOptions
from aep_emulator.server import running_emulator
from tests.aep_emulator.emulator_helpers import Emulator, envelope, profile_record, provision

TOKEN_FORM = {
    "grant_type": "client_credentials",
    "client_id": "c",
    "client_secret": "s",
    "scope": "openid",
}


def set_faults(client: Any, **faults: Any) -> None:
    answer = client.post("/_emulator/faults", json=faults)
    assert answer.status_code == 200, answer.text


def post_batch(emulator: Emulator, p: Any) -> Any:
    return emulator.client.post(
        p.batch_path, json={"messages": [envelope(p, profile_record())]}, headers=p.flow_headers
    )


def test_error_rate_with_status_and_retry_after_on_the_inlet(emulator: Emulator) -> None:
    p = provision(emulator.state)
    set_faults(emulator.client, error_rate=1.0, statuses=[429], retry_after_s=7)
    answer = post_batch(emulator, p)
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "7"
    assert answer.json()["type"] == INLET_PROBLEM_TYPE
    # Scope defaults to the inlet: IMS still answers.
    assert emulator.client.post("/ims/token/v3", data=TOKEN_FORM).status_code == 200
    assert emulator.state.store.records() == []


def test_statuses_are_drawn_uniformly(emulator: Emulator) -> None:
    p = provision(emulator.state)
    set_faults(emulator.client, error_rate=1.0, statuses=[500, 502, 504])
    seen = {post_batch(emulator, p).status_code for _ in range(60)}
    assert seen == {500, 502, 504}
    assert "retry-after" not in post_batch(emulator, p).headers


def test_error_rate_is_a_share(emulator: Emulator) -> None:
    p = provision(emulator.state)
    set_faults(emulator.client, error_rate=0.5, statuses=[503])
    statuses = [post_batch(emulator, p).status_code for _ in range(100)]
    assert 10 < statuses.count(503) < 90
    assert statuses.count(207) == 100 - statuses.count(503)


def test_ims_scope(emulator: Emulator) -> None:
    p = provision(emulator.state)
    set_faults(emulator.client, error_rate=1.0, statuses=[503], scope="ims")
    answer = emulator.client.post("/ims/token/v3", data=TOKEN_FORM)
    assert answer.status_code == 503
    assert answer.json()["error"] == "server_error"
    assert post_batch(emulator, p).status_code == 207


def test_platform_scope(emulator: Emulator) -> None:
    headers = emulator.platform_headers()
    p = provision(emulator.state)
    set_faults(emulator.client, error_rate=1.0, statuses=[502], scope="platform")
    answer = emulator.client.get(
        "/data/core/ups/access/entities",
        params={"schema.name": "_xdm.context.profile", "entityId": "1", "entityIdNS": "CustomerId"},
        headers=headers,
    )
    assert answer.status_code == 502
    assert answer.json()["status"] == 502
    assert "detail" in answer.json()
    assert post_batch(emulator, p).status_code == 207


def test_all_scope(emulator: Emulator) -> None:
    p = provision(emulator.state)
    set_faults(emulator.client, error_rate=1.0, statuses=[500], scope="all")
    assert post_batch(emulator, p).status_code == 500
    assert emulator.client.post("/ims/token/v3", data=TOKEN_FORM).status_code == 500
    # The admin API is never faulted.
    assert emulator.client.get("/_emulator/stats").status_code == 200


def test_latency_and_jitter(emulator: Emulator) -> None:
    p = provision(emulator.state)
    set_faults(emulator.client, latency_ms=150)
    started = time.monotonic()
    assert post_batch(emulator, p).status_code == 207
    assert time.monotonic() - started >= 0.15
    set_faults(emulator.client, latency_ms=0, latency_jitter_ms=60)
    durations = []
    for _ in range(8):
        started = time.monotonic()
        post_batch(emulator, p)
        durations.append(time.monotonic() - started)
    assert max(durations) < 1.0
    assert max(durations) - min(durations) > 0.005


def test_outage_503_then_recovery(emulator: Emulator) -> None:
    p = provision(emulator.state)
    set_faults(emulator.client, outage_s=0.4, retry_after_s=1)
    answer = post_batch(emulator, p)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    time.sleep(0.45)
    assert post_batch(emulator, p).status_code == 207


def test_drop_under_test_client_raises(emulator: Emulator) -> None:
    p = provision(emulator.state)
    set_faults(emulator.client, drop_connection_rate=1.0)
    with pytest.raises(ConnectionDropped):
        post_batch(emulator, p)
    by_status = emulator.client.get("/_emulator/stats").json()["requests"]["by_status"]
    assert by_status == {"dropped": 1}


def test_invalid_fault_sets_are_refused(emulator: Emulator) -> None:
    bodies: list[Any] = [
        {"error_rate": 2},
        {"statuses": [200]},
        {"statuses": []},
        {"scope": "everything"},
        {"outage_mode": "slow"},
        {"surprise": 1},
        [],
    ]
    for body in bodies:
        answer = emulator.client.post("/_emulator/faults", json=body)
        assert answer.status_code == 400, body
        assert "error" in answer.json()
    assert emulator.client.get("/_emulator/faults").json()["error_rate"] == 0.0


# ---- through a real server -------------------------------------------------------------------


def _open_server() -> Any:
    return running_emulator(EmulatorOptions(port=0, max_requests_per_s=0, max_messages_per_s=0))


def test_dropped_connections_through_a_real_server() -> None:
    with _open_server() as running:
        assert running.state is not None
        p = provision(running.state)
        url = running.url + p.batch_path
        body = {"messages": [envelope(p, profile_record())]}
        httpx.post(f"{running.url}/_emulator/faults", json={"drop_connection_rate": 1.0})
        with pytest.raises(httpx.TransportError):
            httpx.post(url, json=body, headers=p.flow_headers)
        httpx.post(f"{running.url}/_emulator/faults", json={})
        assert httpx.post(url, json=body, headers=p.flow_headers).status_code == 207
        stats = httpx.get(f"{running.url}/_emulator/stats").json()["requests"]["by_status"]
        assert stats == {"dropped": 1, "207": 1}


def test_refused_connections_during_an_outage() -> None:
    with _open_server() as running:
        assert running.state is not None
        p = provision(running.state)
        url = running.url + p.batch_path
        body = {"messages": [envelope(p, profile_record())]}
        answer = httpx.post(
            f"{running.url}/_emulator/faults", json={"outage_s": 0.6, "outage_mode": "refuse"}
        )
        assert answer.json()["outage_mode"] == "refuse"
        time.sleep(0.1)
        with pytest.raises(httpx.ConnectError):
            httpx.post(url, json=body, headers=p.flow_headers)
        deadline = time.monotonic() + 5
        while True:
            try:
                answer = httpx.post(url, json=body, headers=p.flow_headers)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "listener did not come back"
                time.sleep(0.05)
        assert answer.status_code == 207


def test_refuse_mode_resets_kept_alive_connections() -> None:
    with _open_server() as running:
        assert running.state is not None
        p = provision(running.state)
        body = {"messages": [envelope(p, profile_record())]}
        with httpx.Client(base_url=running.url) as client:
            assert client.post(p.batch_path, json=body, headers=p.flow_headers).status_code == 207
            running.state.faults.replace(
                running.state.faults.spec.model_validate({"outage_s": 0.5, "outage_mode": "refuse"})
            )
            with pytest.raises(httpx.TransportError):
                client.post(p.batch_path, json=body, headers=p.flow_headers)
