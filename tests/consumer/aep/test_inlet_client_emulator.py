"""The AEP client against the project's AEP emulator (in process, and once over real sockets).

The emulator's own app is served through httpx's ASGI transport, so the real client code meets
the real emulator logic (IMS, inlet routing, envelope checks, 207 shapes) without a network.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Literal

import httpx
import orjson
import pytest

from aep_emulator.app import build_app
from aep_emulator.options import EmulatorOptions
from aep_emulator.resources import (
    DATA_LAKE_TARGET_SPEC,
    DATA_PREP_FLOW_SPEC,
    HTTP_API_CONNECTION_SPEC,
)
from aep_emulator.server import running_emulator
from aep_emulator.state import EmulatorState
from consumer.aep.envelope import EnvelopeBuilder
from consumer.aep.ims import ImsTokenProvider, TokenProvider
from consumer.aep.inlet_client import HttpInletSender
from consumer.aep.protocol import (
    Accepted,
    AepConfigurationFault,
    BatchResult,
    OutgoingRecord,
    Rejected,
    RetryRequest,
    SplitRequest,
)
from consumer.config.settings import AepAuthSettings
from schemas.xdm.ids import BASE_FIELD_GROUP_IDS, EXTERNAL_SOURCE_AUDIT_ID, PROFILE_CLASS_ID

ORG = "0DD379AC5B117F6E0A494106@AdobeOrg"
BASE = "http://emulator.test"
SECRET = "emulator-secret-VALUE"


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


class World:
    """An emulator with one schema, Profile dataset, HTTP API connection and Data Prep flow."""

    def __init__(self, state: EmulatorState, base_url: str, authenticated: bool) -> None:
        self.state = state
        self.base_url = base_url
        r = state.resources
        self.schema = r.create_schema(
            title="Commerce Customer Profile",
            class_id=PROFILE_CLASS_ID,
            field_group_ids=[*BASE_FIELD_GROUP_IDS, EXTERNAL_SOURCE_AUDIT_ID],
            body={"meta:immutableTags": ["union"]},
        )
        self.dataset = r.create_dataset(
            name="Commerce Customer Profiles",
            schema_id=self.schema.id,
            tags={"unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]},
        )
        self.connection = r.create_connection(
            name="commerce-profile-sync",
            connection_spec_id=HTTP_API_CONNECTION_SPEC,
            auth_params={"dataType": "xdm", "authenticationRequired": authenticated},
            ims_org=ORG,
        )
        source = r.create_source_connection(
            name="s",
            base_connection_id=self.connection.id,
            connection_spec_id=HTTP_API_CONNECTION_SPEC,
        )
        target = r.create_target_connection(
            name="t",
            connection_spec_id=DATA_LAKE_TARGET_SPEC,
            dataset_id=self.dataset.id,
            schema_id=self.schema.id,
        )
        self.flow = r.create_flow(
            name="commerce-profile-sync",
            flow_spec_id=DATA_PREP_FLOW_SPEC,
            source_connection_ids=[source.id],
            target_connection_ids=[target.id],
        )

    @property
    def inlet_url(self) -> str:
        assert self.connection.inlet_url is not None
        return self.connection.inlet_url

    def sender(
        self,
        client: httpx.AsyncClient,
        *,
        secret: str = SECRET,
        sandbox: str = "prod",
        org: str = ORG,
        schema_id: str | None = None,
        dataset_id: str | None = None,
        flow_id: str | None = None,
        inlet_url: str | None = None,
        timeout_s: float = 10.0,
        wrap_tokens: Callable[[ImsTokenProvider], TokenProvider] = lambda t: t,
    ) -> HttpInletSender:
        auth = AepAuthSettings(
            aep_ims_url=self.base_url,
            aep_client_id="client-1",
            aep_client_secret=secret,
            aep_org_id=org,
            aep_sandbox=sandbox,
        )
        flow = flow_id or self.flow.id
        envelope = EnvelopeBuilder(
            schema_id=schema_id or self.schema.id,
            org_id=org,
            dataset_id=dataset_id or self.dataset.id,
            flow_id=flow,
        )
        return HttpInletSender(
            client,
            wrap_tokens(ImsTokenProvider(client, auth)),
            envelope,
            inlet_url=inlet_url or self.inlet_url,
            org_id=org,
            api_key=auth.aep_client_id,
            sandbox=sandbox,
            flow_id=flow,
            timeout_s=timeout_s,
        )


def entity(customer_id: int) -> dict[str, Any]:
    return {
        "_id": f"commerce-{customer_id}",
        "identityMap": {
            "CustomerId": [
                {"id": str(customer_id), "primary": True, "authenticatedState": "authenticated"}
            ]
        },
        "person": {"name": {"firstName": "Ada", "lastName": "Example"}},
        "personalEmail": {"address": f"ada{customer_id}@example.com", "primary": True},
        "extSourceSystemAudit": {"lastUpdatedDate": "2024-05-01T10:00:00.000Z"},
    }


def outgoing(
    customer_id: int, op: Literal["create", "delete"] = "create", body: Any = None
) -> OutgoingRecord:
    document = entity(customer_id) if body is None else body
    if op == "delete" and body is None:
        document = {"_id": document["_id"], "identityMap": document["identityMap"]}
    return OutgoingRecord(key=customer_id, entity_json=orjson.dumps(document), operation=op)


@pytest.fixture
def make_world() -> Iterator[Any]:
    states: list[EmulatorState] = []

    def make(authenticated: bool = True, **options: Any) -> tuple[World, httpx.AsyncClient]:
        options = {"max_requests_per_s": 0.0, "max_messages_per_s": 0.0, **options}
        state = EmulatorState(EmulatorOptions(public_url=BASE, **options))
        states.append(state)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(state)))
        return World(state, BASE, authenticated), client

    yield make
    for state in states:
        state.close()


def test_creates_and_deletes_are_delivered(make_world: Any) -> None:
    world, client = make_world()
    sender = world.sender(client)
    batch = [outgoing(1), outgoing(2), outgoing(3), outgoing(2, "delete")]
    result = run(sender.send(batch))
    assert isinstance(result, BatchResult)
    assert [type(o) for o in result.outcomes] == [Accepted] * 4
    assert all(isinstance(o, Accepted) and o.xaction_id for o in result.outcomes)
    # The admin API's record listing (docs/DESIGN.md §8) waits for asynchronous validation.
    answer = run(client.get(f"{BASE}/_emulator/records", params={"datasetId": world.dataset.id}))
    stored = [orjson.loads(line) for line in answer.text.splitlines() if line.strip()]
    assert [(r["operation"], r["entity"]["_id"]) for r in stored] == [
        ("create", "commerce-1"),
        ("create", "commerce-2"),
        ("create", "commerce-3"),
        ("delete", "commerce-2"),
    ]
    accepted = {o.xaction_id for o in result.outcomes if isinstance(o, Accepted)}
    assert {r["xactionId"] for r in stored} == accepted


@pytest.mark.parametrize("result_format", ["sink", "docs"])
def test_record_level_refusal_in_the_207_is_rejected(make_world: Any, result_format: str) -> None:
    world, client = make_world(result_format=result_format)
    sender = world.sender(client)
    # `xdmEntity: null` is the one per-message refusal about the record the inlet answers.
    batch = [
        outgoing(1),
        OutgoingRecord(key=2, entity_json=b"null", operation="create"),
        outgoing(3),
    ]
    result = run(sender.send(batch))
    assert isinstance(result, BatchResult)
    first, second, third = result.outcomes
    assert isinstance(first, Accepted)
    assert isinstance(second, Rejected)
    assert second.status == 400
    assert isinstance(third, Accepted)


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"flow_id": "00000000-0000-0000-0000-000000000000"}, "PROFILE_SYNC_AEP_FLOW_ID"),
        ({"dataset_id": "0123456789abcdef01234567"}, "PROFILE_SYNC_AEP_DATASET_ID"),
        ({"org": "FFFF@AdobeOrg"}, "PROFILE_SYNC_AEP_ORG_ID"),
        (
            {"schema_id": "https://ns.adobe.com/commerceemu/schemas/nope"},
            "PROFILE_SYNC_AEP_SCHEMA_ID",
        ),
    ],
)
def test_envelope_errors_are_configuration_faults(
    make_world: Any, change: dict[str, str], setting: str
) -> None:
    world, client = make_world()
    sender = world.sender(client, **change)
    with pytest.raises(AepConfigurationFault) as caught:
        run(sender.send([outgoing(1)]))
    assert setting in str(caught.value)
    assert "ada1@example.com" not in str(caught.value)


def test_unknown_inlet_is_a_configuration_fault(make_world: Any) -> None:
    world, client = make_world()
    sender = world.sender(client, inlet_url=f"{BASE}/collection/{'0' * 64}")
    with pytest.raises(AepConfigurationFault, match="PROFILE_SYNC_AEP_INLET_URL"):
        run(sender.send([outgoing(1)]))


def test_wrong_credentials_are_a_configuration_fault(make_world: Any) -> None:
    world, client = make_world(client_id="client-1", client_secret=SECRET)
    sender = world.sender(client, secret="wrong-SECRET-value")
    with pytest.raises(AepConfigurationFault) as caught:
        run(sender.send([outgoing(1)]))
    assert "PROFILE_SYNC_AEP_CLIENT_SECRET" in str(caught.value)
    assert "wrong-SECRET-value" not in str(caught.value)


def test_unknown_sandbox_is_a_configuration_fault_after_one_refresh(make_world: Any) -> None:
    world, client = make_world()
    sender = world.sender(client, sandbox="nowhere")
    with pytest.raises(AepConfigurationFault, match="PROFILE_SYNC_AEP_SANDBOX"):
        run(sender.send([outgoing(1)]))


class StaleFirst:
    """Hands out an expired token until the client invalidates it."""

    def __init__(self, inner: ImsTokenProvider) -> None:
        self.inner = inner
        self.stale: str | None = "eyJ-expired-token"

    async def token(self) -> str:
        return self.stale or await self.inner.token()

    def invalidate(self, token: str) -> None:
        if token == self.stale:
            self.stale = None
        self.inner.invalidate(token)


def test_a_stale_token_is_refreshed_once(make_world: Any) -> None:
    world, client = make_world()
    wrapped: list[StaleFirst] = []

    def wrap(inner: ImsTokenProvider) -> StaleFirst:
        wrapped.append(StaleFirst(inner))
        return wrapped[0]

    sender = world.sender(client, wrap_tokens=wrap)
    result = run(sender.send([outgoing(1)]))
    assert isinstance(result, BatchResult)
    assert wrapped[0].stale is None
    assert wrapped[0].inner.fetches == 1


def test_emulated_outage_is_a_retry_with_retry_after(make_world: Any) -> None:
    world, client = make_world()
    sender = world.sender(client)
    run(
        client.post(
            f"{BASE}/_emulator/faults",
            json={"error_rate": 1.0, "statuses": [503], "retry_after_s": 3},
        )
    )
    assert run(sender.send([outgoing(1)])) == RetryRequest("http_503", 503, 3.0)


def test_over_one_megabyte_asks_for_a_split(make_world: Any) -> None:
    world, client = make_world()
    sender = world.sender(client)
    big = {**entity(1), "person": {"name": {"firstName": "A" * 95_000}}}
    batch = [
        OutgoingRecord(key=i, entity_json=orjson.dumps(big), operation="create") for i in range(12)
    ]
    assert sender.request_size(batch) > 1_048_576
    assert run(sender.send(batch)) == SplitRequest()
    assert isinstance(run(sender.send(batch[:6])), BatchResult)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_over_real_sockets_delivery_timeout_and_refused_connection() -> None:
    with running_emulator(EmulatorOptions(port=0)) as emulator:
        assert emulator.state is not None
        world = World(emulator.state, emulator.url, authenticated=True)

        async def go() -> tuple[Any, Any]:
            async with httpx.AsyncClient() as client:
                sender = world.sender(client, timeout_s=0.3)
                delivered = await sender.send([outgoing(1), outgoing(2)])
                await client.post(f"{emulator.url}/_emulator/faults", json={"latency_ms": 1000})
                slow = await sender.send([outgoing(3)])
                await client.post(f"{emulator.url}/_emulator/faults", json={})
                return delivered, slow

        delivered, slow = run(go())
    assert isinstance(delivered, BatchResult)
    assert [type(o) for o in delivered.outcomes] == [Accepted, Accepted]
    assert slow == RetryRequest("timeout", None, None)

    async def refused() -> Any:
        async with httpx.AsyncClient() as client:
            port = _free_port()
            sender = world.sender(client, inlet_url=f"http://127.0.0.1:{port}/collection/x")
            # The token is cached from before; only the inlet is unreachable.
            return await sender.send([outgoing(1)])

    # IMS is gone too (emulator stopped): either way the answer is a retry, never a fault.
    result = run(refused())
    assert isinstance(result, RetryRequest)
