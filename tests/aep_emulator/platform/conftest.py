"""An in-process emulator with a token, and the Platform headers a real client sends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from aep_emulator.app import create_app
from aep_emulator.options import EmulatorOptions
from tests.aep_emulator.platform.platform_api import CLIENT_ID, ORG, TENANT


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app(
        EmulatorOptions(sandboxes=("dev",), public_url="http://aep.test", tenant_id=TENANT)
    )
    with TestClient(app) as test_client:
        yield test_client
        app.state.emulator.close()


@pytest.fixture
def token(client: TestClient) -> str:
    answer = client.post(
        "/ims/token/v3",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": "s3cret",
            "scope": "openid,AdobeID,read_organizations",
        },
    )
    assert answer.status_code == 200
    return str(answer.json()["access_token"])


@pytest.fixture
def headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "x-api-key": CLIENT_ID,
        "x-gw-ims-org-id": ORG,
        "x-sandbox-name": "prod",
    }
