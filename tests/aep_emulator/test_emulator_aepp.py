"""Adobe's own Python SDK, `aepp`, against the emulator, used as a new user would use it.

How aepp is pointed at the emulator, with base URLs and credentials only:
- `aepp.configure(..., environment="support", endpoint=<emulator URL>)` is aepp's way to name a
  Platform host other than `platform.adobe.io`;
- its IMS token URL is `config_object["oauthTokenEndpointV2"]` of the returned ConnectObject
  (aepp offers no parameter for it), and DCS is `aepp.config.endpoints["streaming"]
  ["collection"]`; both are set to the emulator's URL;
- aepp's `Identity` class builds its own host from a region and ignores the configured one, so
  its `endpoint` attribute is set to `<emulator URL>/data/core` (the base URL it would use).

aepp keeps its configuration in module globals; the `aepp_config` fixture restores them. Every
request aepp makes reaches the emulator, which counts them: each scenario asserts the count stays
bounded, so a call that loops (aepp retries non-JSON answers) fails the test.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aepp
import httpx
import orjson
import pytest
from aepp import catalog, customerprofile, flowservice, identity, ingestion
from aepp import schema as schema_api

from aep_emulator.options import EmulatorOptions
from aep_emulator.server import RunningEmulator, running_emulator
from tests.support.kafka import TopicFactory, init_kafka_env

ORG = "0DD379AC5B117F6E0A494106@AdobeOrg"
CLIENT_ID = "aepp-compat"
SECRET = "aepp-compat-secret"
CONTENT_TYPE = "application/vnd.adobe.xed-full+json;version=1"
FIELD_GROUPS = {
    "IdentityMap": "https://ns.adobe.com/xdm/context/identitymap",
    "Demographic Details": "https://ns.adobe.com/xdm/context/profile-person-details",
    "Personal Contact Details": "https://ns.adobe.com/xdm/context/profile-personal-details",
    "User Account Details": "https://ns.adobe.com/xdm/mixins/profile/profile-user-account-details",
}
# A scenario makes a few dozen requests; a loop makes hundreds.
REQUEST_BOUND = 80


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    options = EmulatorOptions(port=0, client_id=CLIENT_ID, client_secret=SECRET)
    with running_emulator(options) as running:
        yield running


@pytest.fixture
def aepp_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """aepp's module-level configuration, restored afterwards; files it may write land in
    tmp_path."""
    monkeypatch.chdir(tmp_path)
    saved = [copy.deepcopy(d) for d in (aepp.config.config_object, aepp.config.header)]
    endpoints = copy.deepcopy(aepp.config.endpoints)
    yield
    for live, old in zip((aepp.config.config_object, aepp.config.header), saved, strict=True):
        live.clear()
        live.update(old)
    aepp.config.endpoints.clear()
    aepp.config.endpoints.update(endpoints)


def connect(url: str) -> Any:
    """A ConnectObject for the emulator: base URLs and credentials only (see the module doc)."""
    conn = aepp.configure(
        org_id=ORG,
        client_id=CLIENT_ID,
        secret=SECRET,
        scopes="openid,AdobeID,read_organizations",
        sandbox="prod",
        environment="support",
        endpoint=url,
        connectInstance=True,
    )
    conn.getConfigObject()["oauthTokenEndpointV2"] = f"{url}/ims/token/v3"
    aepp.config.endpoints["streaming"]["collection"] = url
    return conn


def identity_api(conn: Any, url: str) -> Any:
    api = identity.Identity(config=conn)
    api.endpoint = f"{url}/data/core"
    return api


def requests_seen(url: str) -> int:
    return int(httpx.get(f"{url}/_emulator/stats").json()["requests"]["total"])


def record(customer_id: str) -> dict[str, Any]:
    email = f"ada{customer_id}@example.com"
    return {
        "_id": f"commerce-{customer_id}",
        "identityMap": {
            "CustomerId": [{"id": customer_id, "primary": True}],
            "Email": [{"id": email, "primary": False}],
        },
        "person": {"name": {"firstName": "Ada", "lastName": "Example"}},
        "personalEmail": {"address": email, "primary": True},
    }


def envelope(schema_id: str, dataset_id: str, flow_id: str, entity: dict[str, Any]) -> Any:
    return {
        "header": {
            "schemaRef": {"id": schema_id, "contentType": CONTENT_TYPE},
            "imsOrgId": ORG,
            "datasetId": dataset_id,
            "flowId": flow_id,
            "source": {"name": "aepp-compat"},
        },
        "body": {
            "xdmMeta": {"schemaRef": {"id": schema_id, "contentType": CONTENT_TYPE}},
            "xdmEntity": entity,
        },
    }


@pytest.mark.slow
@pytest.mark.usefixtures("aepp_config")
def test_aepp_provisions_streams_and_reads_profiles(emulator: RunningEmulator) -> None:
    url = emulator.url
    before = requests_seen(url)
    conn = connect(url)
    conn.connect()
    assert conn.token

    schemas = schema_api.Schema(config=conn)
    assert schemas.getTenantId() == "commerceemu"
    titles = {g["title"]: g["$id"] for g in schemas.getFieldGroupsGlobal()}
    assert {title: titles[title] for title in FIELD_GROUPS} == FIELD_GROUPS
    assert schemas.getFieldGroups() == []

    created = schemas.createProfileSchema(
        name="aepp Customer Profile", fieldGroupIds=list(FIELD_GROUPS.values())
    )
    schema_id = created["$id"]
    enabled = schemas.enableSchemaForRealTime(schema_id)
    assert enabled["meta:immutableTags"] == ["union"]
    resolved = schemas.getSchema(schema_id)
    assert resolved["title"] == "aepp Customer Profile"
    assert "xdm:personalEmail" in resolved["properties"]

    namespace = identity_api(conn, url).createIdentity(
        name="Commerce Customer ID", code="CustomerId", idType="CROSS_DEVICE"
    )
    assert namespace["code"] == "CustomerId"

    datasets = catalog.Catalog(config=conn)
    (ref,) = datasets.createDataSet(
        name="aepp Customer Profiles", schemaId=schema_id, profileEnabled=True, identityEnabled=True
    )
    dataset_id = ref.removeprefix("@/dataSets/")
    listed = datasets.getDataSets()
    assert listed[dataset_id]["classification"]["dataBehavior"] == "record"

    flows = flowservice.FlowService(config=conn)
    made = flows.createFlowStreaming(datasetId=dataset_id)
    flow_id = made["flow"]["id"]
    # aepp names the looked-up connections themselves `source_connection_id`/`target_...`.
    base_id = made["source_connection_id"]["baseConnectionId"]
    inlet_id = flows.getConnection(base_id)["auth"]["params"]["inletId"]
    target_id = made["target_connection_id"]["id"]
    assert flows.getFlow(flow_id)["targetConnectionIds"] == [target_id]

    inlet = ingestion.DataIngestion(config=conn)
    single = inlet.streamMessage(
        inletId=inlet_id,
        data=envelope(schema_id, dataset_id, flow_id, record("42")),
        flowId=flow_id,
        syncValidation=True,
    )
    assert single["inletId"] == inlet_id
    batch = inlet.streamMessages(
        inletId=inlet_id,
        data=[envelope(schema_id, dataset_id, flow_id, record(c)) for c in ("43", "44")],
        flowId=flow_id,
    )
    # Accepted messages carry an xactionId and no failure status.
    assert [sorted(r) for r in batch["responses"]] == [["xactionId"]] * 2

    profiles = customerprofile.Profile(config=conn)
    by_id = profiles.getEntity(entityId="42", entityIdNS="CustomerId")
    ((_, found),) = by_id.items()
    assert found["entity"]["person"]["name"]["firstName"] == "Ada"
    assert found["sources"] == [dataset_id]
    by_email = profiles.getEntity(entityId="ada43@example.com", entityIdNS="Email")
    ((_, found),) = by_email.items()
    assert found["entity"]["identityMap"]["CustomerId"][0]["id"] == "43"
    bulk = profiles.getEntities(
        {
            "schema": {"name": "_xdm.context.profile"},
            "identities": [
                {"entityId": c, "entityIdNS": {"code": "CustomerId"}} for c in ("43", "44")
            ],
        }
    )
    assert len(bulk) == 2
    (policy,) = profiles.getMergePolicies()
    assert policy["default"] is True
    assert found["mergePolicy"]["id"] == policy["id"]

    # A route the emulator lacks answers JSON once; aepp retries non-JSON answers.
    seen = requests_seen(url)
    missing = flows.getResource(f"{url}/data/foundation/flowservice/flowSpecs")
    assert missing["status"] == 404
    assert requests_seen(url) == seen + 1

    made_requests = requests_seen(url) - before
    print(f"aepp made {made_requests} requests for the provisioning scenario")
    assert made_requests <= REQUEST_BOUND


def run_init(url: str, topics: TopicFactory) -> dict[str, Any]:
    """`profile-sync init --json` against the emulator and the session broker, as its operator
    would run it (init also creates the service's own topics beside a fresh source topic)."""
    source = topics(partitions=1, dlq=False, state=False)
    env = {
        **init_kafka_env(topics.bootstrap, source),
        **{k: v for k, v in os.environ.items() if not k.startswith("PROFILE_SYNC_")},
        "PROFILE_SYNC_AEP_IMS_URL": url,
        "PROFILE_SYNC_AEP_PLATFORM_URL": url,
        "PROFILE_SYNC_AEP_CLIENT_ID": CLIENT_ID,
        "PROFILE_SYNC_AEP_CLIENT_SECRET": SECRET,
        "PROFILE_SYNC_AEP_ORG_ID": ORG,
        "PROFILE_SYNC_AEP_DATAFLOW_WARMUP_S": "0",
    }
    command = Path(sys.executable).with_name("profile-sync")
    done = subprocess.run(
        [str(command), "init", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    line: dict[str, Any] = orjson.loads(done.stdout)
    return line


@pytest.mark.slow
@pytest.mark.usefixtures("aepp_config")
def test_aepp_reads_what_init_created(emulator: RunningEmulator, make_topics: TopicFactory) -> None:
    url = emulator.url
    made = run_init(url, make_topics)
    before = requests_seen(url)
    conn = connect(url)

    schemas = schema_api.Schema(config=conn)
    assert schemas.getTenantId() == made["tenant_id"]
    (listed,) = schemas.getSchemas()
    assert listed["$id"] == made["schema_id"]
    raw = schemas.getSchema(made["schema_id"], full=False, schema_type="xed")
    assert raw["meta:immutableTags"] == ["union"]
    assert set(FIELD_GROUPS.values()) <= {ref["$ref"] for ref in raw["allOf"]}
    # init creates no descriptors; the paged (xdm-v2) list answers, and ends.
    assert schemas.getDescriptors() == []

    namespaces = identity_api(conn, url).getIdentities(only_custom=True)
    assert [n["code"] for n in namespaces] == ["CustomerId"]

    dataset = catalog.Catalog(config=conn).getDataSet(made["dataset_id"])
    assert dataset[made["dataset_id"]]["schemaRef"]["id"] == made["schema_id"]
    assert dataset[made["dataset_id"]]["tags"]["unifiedProfile"] == ["enabled:true"]

    flows = flowservice.FlowService(config=conn)
    connection = flows.getConnection(made["connection_id"])
    assert connection["auth"]["params"]["inletUrl"] == made["inlet_url"]
    flow = flows.getFlow(made["flow_id"])
    assert flow["state"] == "enabled"
    (spec_id,) = {
        s["connectionSpec"]["id"] for s in flow["inheritedAttributes"]["sourceConnections"]
    }
    assert flows.getConnectionSpec(spec_id)["items"][0]["name"] == "Streaming Connection"

    made_requests = requests_seen(url) - before
    print(f"aepp made {made_requests} requests to read what init created")
    assert made_requests <= REQUEST_BOUND
