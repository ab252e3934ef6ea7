"""Profile store rules and the Profile Access read-back."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest

from aep_emulator.store import DataStore, Operation, StoredRecord
from tests.aep_emulator.emulator_helpers import (
    Emulator,
    EmulatorFactory,
    envelope,
    profile_record,
    provision,
)

DS1, DS2 = "a" * 24, "b" * 24


_sequence = itertools.count(1)


def put(
    store: DataStore, entity: dict[str, Any], *, dataset: str = DS1, operation: Operation = "create"
) -> bool:
    n = next(_sequence)
    record = StoredRecord(
        xaction_id=f"x-{n}",
        batch_id="b",
        received_ms=1_700_000_000_000 + n,
        dataset_id=dataset,
        flow_id=None,
        operation=operation,
        entity_json=orjson.dumps(entity),
    )
    return store.ingest(record, entity)


def customer(cid: str, **fields: Any) -> dict[str, Any]:
    return {"identityMap": {"CustomerId": [{"id": cid, "primary": True}]}, **fields}


def test_create_replaces_the_datasets_fragment() -> None:
    store = DataStore("ingestion")
    put(
        store,
        customer(
            "1", person={"name": {"firstName": "A", "lastName": "B"}}, homePhone={"number": "1"}
        ),
    )
    put(store, customer("1", person={"name": {"firstName": "C"}}))
    profile = store.profile("CustomerId", "1")
    assert profile is not None
    assert profile.entity["person"] == {"name": {"firstName": "C"}}
    assert "homePhone" not in profile.entity


def test_merge_merges_fields() -> None:
    store = DataStore("ingestion")
    put(store, customer("1", person={"name": {"firstName": "A", "lastName": "B"}}))
    put(store, customer("1", person={"name": {"firstName": "C"}}), operation="merge")
    profile = store.profile("CustomerId", "1")
    assert profile is not None
    assert profile.entity["person"]["name"] == {"firstName": "C", "lastName": "B"}


def test_delete_removes_the_fragment_of_that_dataset_only() -> None:
    store = DataStore("ingestion")
    put(store, customer("1", person={"gender": "male"}), dataset=DS1)
    put(store, customer("1", mobilePhone={"number": "2"}), dataset=DS2)
    put(store, customer("1"), dataset=DS1, operation="delete")
    profile = store.profile("CustomerId", "1")
    assert profile is not None
    assert profile.sources == [DS2]
    assert "person" not in profile.entity
    put(store, customer("1"), dataset=DS2, operation="delete")
    assert store.profile("CustomerId", "1") is None


def test_read_merges_datasets_by_ingestion_time() -> None:
    store = DataStore("ingestion")
    put(store, customer("1", person={"gender": "male", "birthYear": 1990}), dataset=DS2)
    put(store, customer("1", person={"gender": "female"}), dataset=DS1)
    profile = store.profile("customerid", "1")  # namespace matched case-insensitively
    assert profile is not None
    assert profile.entity["person"] == {"gender": "female", "birthYear": 1990}
    assert profile.sources == [DS2, DS1]


def stamped(cid: str, stamp: str, **fields: Any) -> dict[str, Any]:
    return customer(cid, extSourceSystemAudit={"lastUpdatedDate": stamp}, **fields)


def test_timestamp_mode_orders_by_last_updated_date() -> None:
    store = DataStore("timestamp")
    put(store, stamped("1", "2024-05-02T00:00:00.000Z", person={"gender": "female"}), dataset=DS1)
    put(store, stamped("1", "2024-05-01T00:00:00.000Z", person={"gender": "male"}), dataset=DS2)
    profile = store.profile("CustomerId", "1")
    assert profile is not None
    assert profile.entity["person"]["gender"] == "female"  # newer stamp wins, not later arrival


def test_timestamp_mode_discards_rows_not_newer() -> None:
    store = DataStore("timestamp")
    assert put(store, stamped("1", "2024-05-02T00:00:00.000Z", person={"gender": "female"}))
    assert not put(store, stamped("1", "2024-05-02T00:00:00.000Z", person={"gender": "male"}))
    assert not put(store, stamped("1", "2024-05-01T00:00:00.000Z", person={"gender": "male"}))
    assert put(store, stamped("1", "2024-05-03T00:00:00.000Z", person={"gender": "male"}))
    profile = store.profile("CustomerId", "1")
    assert profile is not None
    assert profile.entity["person"]["gender"] == "male"


def test_ingestion_mode_last_arrival_wins_even_if_older() -> None:
    store = DataStore("ingestion")
    put(store, stamped("1", "2024-05-02T00:00:00.000Z", person={"gender": "female"}))
    put(store, stamped("1", "2024-05-01T00:00:00.000Z", person={"gender": "male"}))
    profile = store.profile("CustomerId", "1")
    assert profile is not None
    assert profile.entity["person"]["gender"] == "male"


def read(emulator: Emulator, **params: str) -> Any:
    return emulator.client.get(
        "/data/core/ups/access/entities",
        params={"schema.name": "_xdm.context.profile", **params},
        headers=emulator.platform_headers(),
    )


def test_profile_access_reads_back_the_merged_profile(emulator: Emulator) -> None:
    p = provision(emulator.state)
    messages = [
        envelope(p, profile_record("42")),
        envelope(
            p,
            {"identityMap": profile_record("42")["identityMap"], "person": {"gender": "female"}},
            operation="merge",
        ),
    ]
    answer = emulator.client.post(p.batch_path, json={"messages": messages}, headers=p.flow_headers)
    xaction_ids = [r["xactionId"] for r in answer.json()["responses"]]
    found = read(emulator, entityId="42", entityIdNS="CustomerId")
    assert found.status_code == 200
    ((_, body),) = found.json().items()
    assert body["sources"] == [p.dataset.id]
    assert body["tags"] == [xaction_ids[1]]
    assert body["entity"]["person"] == {
        "name": {"firstName": "Ada", "lastName": "Example"},
        "gender": "female",
    }
    assert body["lastModifiedAt"].endswith("Z")
    assert "mergePolicy" in body
    assert body["identityGraph"]
    fields = read(
        emulator, entityId="42", entityIdNS="CustomerId", fields="person.gender,personalEmail"
    )
    ((_, trimmed),) = fields.json().items()
    assert trimmed["entity"] == {
        "person": {"gender": "female"},
        "personalEmail": body["entity"]["personalEmail"],
    }
    identities = read(emulator, entityId="42", entityIdNS="CustomerId", fields="identities")
    ((_, ids),) = identities.json().items()
    assert ids["entity"]["identities"] == [
        {"id": "42", "namespace": {"code": "customerid"}, "primary": True}
    ]


def test_profile_access_after_delete_is_404(emulator: Emulator) -> None:
    p = provision(emulator.state)
    delete = {"_id": "commerce-42", "identityMap": profile_record("42")["identityMap"]}
    emulator.client.post(
        p.batch_path,
        json={
            "messages": [envelope(p, profile_record("42")), envelope(p, delete, operation="delete")]
        },
        headers=p.flow_headers,
    )
    answer = read(emulator, entityId="42", entityIdNS="CustomerId")
    assert answer.status_code == 404
    assert answer.json()["title"] == "NotFoundError"


@pytest.mark.parametrize(
    "params",
    [{"entityIdNS": "CustomerId"}, {"entityId": "42"}],
)
def test_profile_access_needs_id_and_namespace(emulator: Emulator, params: dict[str, str]) -> None:
    assert read(emulator, **params).status_code == 400


def test_profile_access_is_behind_the_gateway(make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator()
    answer = emulator.client.get(
        "/data/core/ups/access/entities",
        params={"schema.name": "_xdm.context.profile", "entityId": "1", "entityIdNS": "CustomerId"},
    )
    assert answer.status_code == 403
    assert answer.json() == {"error_code": "403010", "message": "Oauth token is missing."}


def test_bulk_read_answers_every_identity(emulator: Emulator) -> None:
    p = provision(emulator.state)
    messages = [envelope(p, profile_record("42")), envelope(p, profile_record("43"))]
    emulator.client.post(p.batch_path, json={"messages": messages}, headers=p.flow_headers)
    request = {
        "schema": {"name": "_xdm.context.profile"},
        "fields": ["person.name"],
        "identities": [
            {"entityId": "42", "entityIdNS": {"code": "CustomerId"}},
            {"entityId": "43", "entityIdNS": {"code": "CustomerId"}},
            {"entityId": "404", "entityIdNS": {"code": "CustomerId"}},
        ],
    }
    answer = emulator.client.post(
        "/data/core/ups/access/entities", json=request, headers=emulator.platform_headers()
    )
    assert answer.status_code == 200
    entries = list(answer.json().values())
    assert len(entries) == 3
    assert entries[0]["entity"] == {"person": {"name": {"firstName": "Ada", "lastName": "Example"}}}
    assert entries[0]["sources"] == [p.dataset.id]
    # Reads name the default merge policy the Profile configuration lists.
    policies = emulator.client.get(
        "/data/core/ups/config/mergePolicies", headers=emulator.platform_headers()
    ).json()["children"]
    assert entries[0]["mergePolicy"] == {"id": policies[0]["id"]}
    assert entries[1]["entity"]["person"]["name"]["firstName"] == "Ada"
    assert entries[2] == {"entity": {}, "lastModifiedAt": "1970-01-01T00:00:00Z", "sources": [""]}
    # The single read names the same entity id as the bulk read.
    single = read(emulator, entityId="42", entityIdNS="CustomerId").json()
    assert list(single) == [next(iter(answer.json()))]


@pytest.mark.parametrize(
    "request_body",
    [
        {"schema": {"name": "_xdm.context.profile"}},
        {"schema": {"name": "_xdm.context.profile"}, "identities": [{"entityId": "1"}]},
        {"schema": {"name": "_xdm.context.experienceevent"}, "identities": []},
        [],
    ],
)
def test_bulk_read_refuses_malformed_requests(emulator: Emulator, request_body: Any) -> None:
    answer = emulator.client.post(
        "/data/core/ups/access/entities", json=request_body, headers=emulator.platform_headers()
    )
    assert answer.status_code == 400
    assert answer.json()["title"] == "BadRequestError"
