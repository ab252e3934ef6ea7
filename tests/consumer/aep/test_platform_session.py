"""`fetch_token`: transient IMS failures are retried with the project's backoff, then give up
naming the setting; a recovered IMS issues the token."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from consumer.aep.platform_http import MAX_ATTEMPTS, PlatformUnavailable
from consumer.aep.platform_session import fetch_token
from consumer.config.settings import AepAuthSettings


def auth(ims_url: str) -> AepAuthSettings:
    return AepAuthSettings(
        aep_ims_url=ims_url,
        aep_client_id="client",
        aep_client_secret="secret-value-never-shown",
        aep_org_id="ORG@AdobeOrg",
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def flaky_ims() -> Iterator[tuple[str, list[int]]]:
    """An IMS that answers 503 twice, then a token."""
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = 503 if len(statuses) < 2 else 200
            statuses.append(status)
            body = json.dumps({"access_token": "tok", "expires_in": 86399}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", statuses
    finally:
        server.shutdown()
        server.server_close()


def test_unreachable_ims_gives_up_naming_the_setting() -> None:
    slept: list[float] = []
    with pytest.raises(PlatformUnavailable, match="PROFILE_SYNC_AEP_IMS_URL") as caught:
        fetch_token(auth(f"http://127.0.0.1:{_closed_port()}"), timeout_s=2, sleep=slept.append)
    assert f"after {MAX_ATTEMPTS} attempts" in str(caught.value)
    assert len(slept) == MAX_ATTEMPTS - 1
    assert "secret-value-never-shown" not in str(caught.value)


def test_a_recovered_ims_issues_the_token(flaky_ims: tuple[str, list[int]]) -> None:
    url, statuses = flaky_ims
    slept: list[float] = []
    assert fetch_token(auth(url), timeout_s=5, sleep=slept.append) == "tok"
    assert statuses == [503, 503, 200]
    assert len(slept) == 2
    assert slept[1] <= 1.0  # full jitter under the second ceiling (0.5 s, then 1 s)
