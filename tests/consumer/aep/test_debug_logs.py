"""With the HTTP libraries' DEBUG logging on (an operator's hook could turn it on; the service's
own log level cannot), neither the client secret nor the access token is printed."""

from __future__ import annotations

import asyncio
import logging

import httpx
import orjson
import pytest

from aep_emulator.options import EmulatorOptions
from aep_emulator.server import running_emulator
from consumer.aep.envelope import EnvelopeBuilder
from consumer.aep.ims import ImsTokenProvider
from consumer.aep.inlet_client import HttpInletSender
from consumer.aep.protocol import AepConfigurationFault, OutgoingRecord
from consumer.config.settings import AepAuthSettings

SECRET = "S3CR3T-value-4711"
ORG = "ORG0123456789@AdobeOrg"


def test_http_debug_logs_print_no_secret_and_no_token(caplog: pytest.LogCaptureFixture) -> None:
    options = EmulatorOptions(port=0, client_id="client-1", client_secret=SECRET)
    with running_emulator(options) as emulator:
        auth = AepAuthSettings(
            aep_ims_url=emulator.url,
            aep_client_id="client-1",
            aep_client_secret=SECRET,
            aep_org_id=ORG,
        )

        async def exchange() -> str:
            async with httpx.AsyncClient() as client:
                tokens = ImsTokenProvider(client, auth)
                token = await tokens.token()
                envelope = EnvelopeBuilder(
                    schema_id="https://ns.adobe.com/t/schemas/s1",
                    org_id=ORG,
                    dataset_id="ds-1",
                    flow_id="flow-1",
                )
                sender = HttpInletSender(
                    client,
                    tokens,
                    envelope,
                    inlet_url=f"{emulator.url}/collection/no-such-inlet",
                    org_id=ORG,
                    api_key="client-1",
                    sandbox="prod",
                    flow_id="flow-1",
                    timeout_s=10.0,
                )
                record = OutgoingRecord(1, orjson.dumps({"_id": "1"}), "create")
                with pytest.raises(AepConfigurationFault):
                    await sender.send([record])
                return token

        with caplog.at_level(logging.DEBUG):
            token = asyncio.run(exchange())
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("httpx", "httpcore", "consumer")]
    assert any(r.name.startswith("httpcore") for r in ours)  # DEBUG was really on
    assert any(r.name.startswith("httpx") for r in ours)
    printed = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in ours)
    assert SECRET not in printed
    assert token not in printed
    assert len(token) >= 16
