"""Refused credentials, organisation and sandbox against the emulator: exit 1 naming the
setting, the secret never printed, nothing written."""

from __future__ import annotations

import io

import pytest

from aep_emulator.options import EmulatorOptions
from aep_emulator.server import running_emulator
from consumer.aep.platform_http import PlatformAccessError, PlatformHttp
from consumer.aep.protocol import AepConfigurationFault
from consumer.commands.init import run_init
from devenv.kafka_local import Broker
from tests.consumer.provisioning.init_helpers import SECRET, Aep
from tests.support.kafka import TopicFactory, init_kafka_env


def run(aep: Aep, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str, str]:
    for name, value in aep.env(**env).items():
        monkeypatch.setenv(name, value)
    out, err = io.StringIO(), io.StringIO()
    code = run_init(None, plan=False, as_json=True, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_wrong_secret(
    monkeypatch: pytest.MonkeyPatch, kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    with running_emulator(
        EmulatorOptions(port=0, client_id="right", client_secret="right-secret")
    ) as emulator:
        aep = Aep(emulator.url, init_kafka_env(kafka_broker.bootstrap, make_topics(state=False)))
        code, out, err = run(aep, monkeypatch, PROFILE_SYNC_AEP_CLIENT_ID="right")
        aep.close()
    assert code == 1
    assert out == ""
    assert "PROFILE_SYNC_AEP_CLIENT_ID and PROFILE_SYNC_AEP_CLIENT_SECRET" in err
    assert SECRET not in err


def test_an_unreachable_broker_fails_before_anything_is_written(
    aep: Aep, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(aep, monkeypatch, PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
    assert code == 1
    assert out == ""
    assert "cannot reach the Kafka cluster at PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS" in err
    assert aep.writes() == 0


def test_unknown_sandbox(aep: Aep, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _out, err = run(aep, monkeypatch, PROFILE_SYNC_AEP_SANDBOX="nosuch")
    assert code == 1
    assert "PROFILE_SYNC_AEP_SANDBOX" in err
    assert aep.writes() == 0


def test_credential_of_another_organisation(aep: Aep, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(aep, monkeypatch, PROFILE_SYNC_AEP_CLIENT_ID="org-bound")[0] == 0
    writes = aep.writes()
    code, _out, err = run(
        aep,
        monkeypatch,
        PROFILE_SYNC_AEP_CLIENT_ID="org-bound",
        PROFILE_SYNC_AEP_ORG_ID="11111111111111111111@AdobeOrg",
    )
    assert code == 1
    assert "PROFILE_SYNC_AEP_ORG_ID" in err
    assert aep.writes() == writes


def test_invalid_token_is_401_naming_the_credentials(aep: Aep) -> None:
    import httpx

    with httpx.Client() as client:
        http = PlatformHttp(client, aep.auth(), lambda: "not-a-token")
        with pytest.raises(PlatformAccessError) as caught:
            http.request("GET", "/data/foundation/schemaregistry/stats")
    assert caught.value.status == 401
    assert "PROFILE_SYNC_AEP_CLIENT_SECRET" in str(caught.value)
    assert "not-a-token" not in str(caught.value)


def test_ims_refusal_is_a_configuration_fault() -> None:
    from consumer.aep.platform_session import fetch_token

    with running_emulator(
        EmulatorOptions(port=0, client_id="right", client_secret="right-secret")
    ) as emulator:
        aep = Aep(emulator.url)
        with pytest.raises(AepConfigurationFault, match="PROFILE_SYNC_AEP_CLIENT_SECRET"):
            fetch_token(aep.auth(aep_client_id="right"))
        aep.close()
