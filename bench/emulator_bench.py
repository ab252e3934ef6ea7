"""Emulator headroom: how many records a second the AEP emulator takes, validation on.

Starts the emulator in its own process (rate limits off), provisions a schema, dataset, HTTP
API connection and Data Prep dataflow through the Platform API as init does, then a load
generator in another process posts realistic batches (pre-serialised, so the generator costs
little CPU) from several threads for DURATION seconds. It prints:

- acknowledged records/s (207 answers),
- validated records/s (records the emulator stored after validation, over the time until its
  validation backlog drained),
- the validation backlog: the worst age of the oldest queued message seen while sampling, and
  the time to drain after the load stopped.

Usage: python bench/emulator_bench.py [--duration 20] [--batch 400] [--senders 4]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import threading
import time
from typing import Any

import httpx
import orjson
import psutil  # type: ignore[import-untyped]

from aep_emulator.options import EmulatorOptions
from aep_emulator.server import running_emulator

ORG = "BENCH0000000000000000000@AdobeOrg"
CONTENT_TYPE = "application/vnd.adobe.xed-full+json;version=1"
FIELD_GROUPS = [
    "https://ns.adobe.com/xdm/context/identitymap",
    "https://ns.adobe.com/xdm/context/profile-person-details",
    "https://ns.adobe.com/xdm/context/profile-personal-details",
    "https://ns.adobe.com/xdm/mixins/profile/profile-user-account-details",
    "https://ns.adobe.com/xdm/common/external-source-system-audit-details",
]
FIRST_NAMES = ["Zoë", "Ana", "Li", "Олег", "Yuki", "Søren", "Amélie", "Ngozi"]
LAST_NAMES = ["Müller", "García", "Wang", "Иванов", "Tanaka", "Jørgensen", "Dubois", "Okafor"]
COUNTRIES = [
    ("DE", "Berlin"),
    ("ES", "Madrid"),
    ("CN", "Beijing"),
    ("JP", "Tokyo"),
    ("FR", "Paris"),
]


def record(i: int) -> dict[str, Any]:
    """A fictional customer in the shape the mapper emits (about 1 KB)."""
    country, city = COUNTRIES[i % len(COUNTRIES)]
    first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i // 3) % len(LAST_NAMES)]
    address = {
        "street1": f"{i % 200} Example Street",
        "city": city,
        "postalCode": f"{10000 + i % 89999}",
        "countryCode": country,
        "primary": True,
    }
    out: dict[str, Any] = {
        "_id": f"commerce-{i}",
        "identityMap": {
            "CustomerId": [{"id": str(i), "primary": True, "authenticatedState": "authenticated"}],
            "Email": [{"id": f"customer{i}@example.com", "primary": False}],
        },
        "person": {
            "name": {"firstName": first, "lastName": last},
            "birthDate": f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10}",
            "gender": ("male", "female", "not_specified")[i % 3],
        },
        "personalEmail": {"address": f"customer{i}@example.com", "primary": True},
        "mobilePhone": {"number": f"+49 30 {1000000 + i % 8999999}", "primary": True},
        "billingAddress": address,
        "shippingAddress": {**address, "primary": False},
        "userAccount": {"ID": str(i), "startDate": "2021-04-05T06:07:08.000Z", "status": "active"},
        "extSourceSystemAudit": {
            "createdDate": "2021-04-05T06:07:08.000Z",
            "lastUpdatedDate": "2024-05-01T10:00:00.000Z",
            "externalID": str(i),
        },
    }
    if i % 4 == 0:
        out["billingAddressPhone"] = {"number": f"+49 30 {2000000 + i % 999999}"}
    return out


def provision(url: str) -> dict[str, str]:
    """Schema, dataset, connection, Data Prep flow through the Platform API; returns ids."""
    token = httpx.post(
        f"{url}/ims/token/v3",
        data={
            "grant_type": "client_credentials",
            "client_id": "bench",
            "client_secret": "bench",
            "scope": "openid,AdobeID",
        },
    ).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "x-api-key": "bench",
        "x-gw-ims-org-id": ORG,
        "x-sandbox-name": "prod",
        "Content-Type": "application/json",
    }
    platform = httpx.Client(base_url=f"{url}/data/foundation", headers=headers, timeout=30)
    schema = platform.post(
        "/schemaregistry/tenant/schemas",
        json={
            "type": "object",
            "title": "Bench Customer Profile",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]
            + [{"$ref": fg} for fg in FIELD_GROUPS],
            "meta:immutableTags": ["union"],
        },
    )
    schema.raise_for_status()
    schema_id = schema.json()["$id"]
    dataset = platform.post(
        "/catalog/dataSets",
        json={
            "name": "Bench Profiles",
            "schemaRef": {"id": schema_id, "contentType": CONTENT_TYPE},
            "tags": {"unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]},
        },
    )
    dataset.raise_for_status()
    dataset_id = dataset.json()[0].split("/")[-1]
    spec = {"id": "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb", "version": "1.0"}
    connection = platform.post(
        "/flowservice/connections",
        json={
            "name": "bench",
            "connectionSpec": spec,
            "auth": {
                "specName": "Streaming Connection",
                "params": {"dataType": "xdm", "name": "bench", "authenticationRequired": False},
            },
        },
    )
    connection.raise_for_status()
    connection_id = connection.json()["id"]
    inlet_url = platform.get(f"/flowservice/connections/{connection_id}").json()["items"][0][
        "auth"
    ]["params"]["inletUrl"]
    source = platform.post(
        "/flowservice/sourceConnections",
        json={"name": "bench source", "baseConnectionId": connection_id, "connectionSpec": spec},
    )
    source.raise_for_status()
    target = platform.post(
        "/flowservice/targetConnections",
        json={
            "name": "bench target",
            "connectionSpec": {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"},
            "data": {"format": "parquet_xdm", "schema": {"id": schema_id, "version": CONTENT_TYPE}},
            "params": {"dataSetId": dataset_id},
        },
    )
    target.raise_for_status()
    flow = platform.post(
        "/flowservice/flows",
        json={
            "name": "bench flow",
            "flowSpec": {"id": "c1a19761-d2c7-4702-b9fa-fe91f0613e81", "version": "1.0"},
            "sourceConnectionIds": [source.json()["id"]],
            "targetConnectionIds": [target.json()["id"]],
        },
    )
    flow.raise_for_status()
    return {
        "schema_id": schema_id,
        "dataset_id": dataset_id,
        "inlet_url": inlet_url,
        "flow_id": flow.json()["id"],
    }


def batch_bodies(ids: dict[str, str], batch: int, n_bodies: int, offset: int) -> list[bytes]:
    bodies = []
    for b in range(n_bodies):
        messages = []
        for k in range(batch):
            i = offset + b * batch + k
            messages.append(
                {
                    "header": {
                        "schemaRef": {"id": ids["schema_id"], "contentType": CONTENT_TYPE},
                        "imsOrgId": ORG,
                        "datasetId": ids["dataset_id"],
                        "flowId": ids["flow_id"],
                        "source": {"name": "commerce-profile-sync"},
                        "createdAt": 1_714_557_600_000 + i,
                    },
                    "body": {
                        "xdmMeta": {
                            "schemaRef": {"id": ids["schema_id"], "contentType": CONTENT_TYPE}
                        },
                        "xdmEntity": record(i),
                    },
                }
            )
        bodies.append(orjson.dumps({"messages": messages}))
    return bodies


def load_generator(
    ids: dict[str, str], batch: int, senders: int, duration_s: float, rate: float, result: Any
) -> None:
    """Runs in its own process: `senders` threads post batches until the time is up, as fast
    as answers come, or paced to `rate` records/s in all when rate > 0."""
    batch_url = ids["inlet_url"].replace("/collection/", "/collection/batch/")
    headers = {"Content-Type": "application/json", "x-adobe-flow-id": ids["flow_id"]}
    acknowledged = [0] * senders
    refused = [0] * senders
    deadline = time.monotonic() + duration_s

    def send(n: int) -> None:
        bodies = batch_bodies(ids, batch, 25, offset=n * 1_000_000)
        interval = batch * senders / rate if rate > 0 else 0.0
        next_at = time.monotonic()
        with httpx.Client(timeout=60) as client:
            k = 0
            while time.monotonic() < deadline:
                if interval:
                    next_at += interval
                    time.sleep(max(0.0, next_at - time.monotonic()))
                answer = client.post(batch_url, content=bodies[k % len(bodies)], headers=headers)
                k += 1
                if answer.status_code == 207:
                    acknowledged[n] += batch
                else:
                    refused[n] += batch

    threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.put({"acknowledged": sum(acknowledged), "refused": sum(refused)})


def emulator_cpu_s(server: psutil.Process) -> float:
    """CPU seconds used so far by the emulator and its validation processes."""
    total = 0.0
    for process in [server, *server.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--batch", type=int, default=400)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--rate", type=float, default=0.0, help="records/s in all; 0 = max")
    parser.add_argument("--no-validation", action="store_true")
    parser.add_argument("--validation-processes", type=int, default=1)
    args = parser.parse_args()
    options = EmulatorOptions(
        port=0,
        max_requests_per_s=0,
        max_messages_per_s=0,
        validation=not args.no_validation,
        validation_processes=args.validation_processes,
    )
    with running_emulator(options, subprocess=True) as emulator:
        assert emulator.pid is not None
        server = psutil.Process(emulator.pid)
        ids = provision(emulator.url)
        stats_url = f"{emulator.url}/_emulator/stats"
        ctx = mp.get_context("spawn")
        result: Any = ctx.Queue()
        generator = ctx.Process(
            target=load_generator,
            args=(ids, args.batch, args.senders, args.duration, args.rate, result),
        )
        generator.start()
        # The generator builds its bodies first; measure from the first accepted request.
        while httpx.get(stats_url).json()["requests"]["by_status"].get("207", 0) == 0:
            time.sleep(0.05)
        started = time.monotonic()
        cpu_before = emulator_cpu_s(server)
        worst_backlog_s = 0.0
        while generator.is_alive():
            backlog = httpx.get(stats_url).json()["validation"]["backlog"]
            worst_backlog_s = max(worst_backlog_s, backlog["oldest_s"])
            time.sleep(0.5)
        sent_until = time.monotonic()
        generator.join()
        counts = result.get()
        while True:
            stats = httpx.get(stats_url).json()
            if stats["validation"]["backlog"]["messages"] == 0:
                break
            worst_backlog_s = max(worst_backlog_s, stats["validation"]["backlog"]["oldest_s"])
            time.sleep(0.1)
        drained = time.monotonic()
        cpu_used = emulator_cpu_s(server) - cpu_before
    messages = stats["messages"]
    load_s = sent_until - started
    pace = f"paced at {args.rate:.0f} records/s" if args.rate > 0 else "unpaced (maximum)"
    validation = "on" if not args.no_validation else "off"
    print(
        f"batch size {args.batch}, senders {args.senders}, {pace}, validation {validation}, "
        f"validation processes {args.validation_processes}"
    )
    print(f"load window            {load_s:8.1f} s")
    print(f"acknowledged           {counts['acknowledged'] / load_s:8.0f} records/s")
    print(f"validated and stored   {messages['accepted'] / (drained - started):8.0f} records/s")
    print(f"failed validation      {messages['failed_validation']:8d}")
    print(f"refused requests (recs){counts['refused']:8d}")
    print(f"worst validation backlog {worst_backlog_s:6.2f} s")
    print(f"drain after load       {drained - sent_until:8.2f} s")
    per_record_us = cpu_used / max(1, messages["accepted"]) * 1e6
    print(f"emulator CPU           {per_record_us:8.1f} us/record (server + validation processes)")
    print(f"capacity per CPU core  {1e6 / per_record_us:8.0f} records/s")


if __name__ == "__main__":
    main()
