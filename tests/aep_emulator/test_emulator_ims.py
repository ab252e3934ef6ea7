"""IMS token endpoint: shape, credential rules, errors, expiry."""

from __future__ import annotations

import time
from typing import Any

from tests.aep_emulator.emulator_helpers import ORG, Emulator, EmulatorFactory, provision

FORM = {
    "grant_type": "client_credentials",
    "client_id": "any-id",
    "client_secret": "any-secret",
    "scope": "openid,AdobeID,read_organizations",
}


def test_token_has_the_v3_shape(emulator: Emulator) -> None:
    answer = emulator.client.post("/ims/token/v3", data=FORM)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86_399  # seconds, as /ims/token/v3 says
    assert emulator.state.tokens.lookup(body["access_token"]) is not None


def test_parameters_may_come_in_the_query_string(emulator: Emulator) -> None:
    answer = emulator.client.post("/ims/token/v3", params=FORM)
    assert answer.status_code == 200


def test_missing_parameter_is_invalid_request(emulator: Emulator) -> None:
    form = {k: v for k, v in FORM.items() if k != "scope"}
    answer = emulator.client.post("/ims/token/v3", data=form)
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_request",
        "error_description": "missing scope parameter",
    }


def test_other_grant_types_are_unsupported(emulator: Emulator) -> None:
    answer = emulator.client.post("/ims/token/v3", data={**FORM, "grant_type": "password"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_configured_credentials_refuse_others(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(client_id="right-id", client_secret="right-secret")
    good = {**FORM, "client_id": "right-id", "client_secret": "right-secret"}
    assert emulator.client.post("/ims/token/v3", data=good).status_code == 200
    wrong_id = emulator.client.post("/ims/token/v3", data={**good, "client_id": "other"})
    assert wrong_id.status_code == 400
    assert wrong_id.json() == {
        "error": "invalid_client",
        "error_description": "invalid client_id parameter",
    }
    wrong_secret = emulator.client.post("/ims/token/v3", data={**good, "client_secret": "nope"})
    assert wrong_secret.json()["error"] == "invalid_client"
    assert "secret" in wrong_secret.json()["error_description"]


def test_expired_token_is_refused_by_an_authenticated_inlet(
    make_emulator: EmulatorFactory,
) -> None:
    emulator = make_emulator(token_ttl_s=1)
    p = provision(emulator.state, authenticated=True)
    token = emulator.token()
    assert emulator.client.post("/ims/token/v3", data=FORM).json()["expires_in"] == 1
    headers = {"Authorization": f"Bearer {token}", "x-gw-ims-org-id": ORG, **p.flow_headers}
    batch: dict[str, Any] = {"messages": [{"header": {}, "body": {}}]}
    assert emulator.client.post(p.batch_path, json=batch, headers=headers).status_code == 207
    time.sleep(1.05)
    answer = emulator.client.post(p.batch_path, json=batch, headers=headers)
    assert answer.status_code == 403
    assert "invalid or expired" in answer.json()["report"]["message"]
