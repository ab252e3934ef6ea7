"""What the emulator holds: the ingestion log (`/_emulator/records`), the failure log
(`/_emulator/failures`) and the Profile store (fragments per dataset and identity).

Profile rules (docs/DESIGN.md §8, docs/AEP.md §2.9 and §5): a `create` replaces the identity's
fragment from that dataset, a `merge` merges fields into it, a `delete` removes it. A profile
read merges the identity's fragments across datasets, later ones winning attribute by attribute:
"later" is ingestion order, or `extSourceSystemAudit.lastUpdatedDate` in the timestamp mode
(where a row not newer than the stored one is discarded, as AEP's customer timestamp ordering
does).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import orjson

from aep_emulator.options import MergeMode

Operation = Literal["create", "merge", "delete"]
FailureStage = Literal["envelope", "validation", "size", "warmup"]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    xaction_id: str
    batch_id: str
    received_ms: int
    dataset_id: str
    flow_id: str | None
    operation: Operation
    entity_json: bytes  # compact UTF-8 JSON of xdmEntity, as measured

    def json_line(self) -> bytes:
        return orjson.dumps(
            {
                "xactionId": self.xaction_id,
                "batchId": self.batch_id,
                "receivedTimeMs": self.received_ms,
                "datasetId": self.dataset_id,
                "flowId": self.flow_id,
                "operation": self.operation,
                "entity": orjson.Fragment(self.entity_json),
            }
        )


@dataclass(frozen=True, slots=True)
class FailureError:
    pointer: str
    keyword: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {
            "pointerToViolation": self.pointer,
            "keyword": self.keyword,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Failure:
    xaction_id: str
    received_ms: int
    dataset_id: str | None
    stage: FailureStage
    status: int
    errors: tuple[FailureError, ...]

    def json_line(self) -> bytes:
        return orjson.dumps(
            {
                "xactionId": self.xaction_id,
                "receivedTimeMs": self.received_ms,
                "datasetId": self.dataset_id,
                "stage": self.stage,
                "status": self.status,
                "errors": [e.as_json() for e in self.errors],
            }
        )


# One dataset's view of one identity, as a plain tuple of atoms: CPython's collector stops
# tracking such tuples, so a store of millions of fragments costs the collector nothing.
# (entity JSON, ingestion seq, receivedTimeMs, xactionId, lastUpdatedDate or None,
#  identities as "namespace\x00id" strings)
Fragment = tuple[bytes, int, int, str, str | None, tuple[str, ...]]


def primary_identity(entity: dict[str, Any]) -> tuple[str, str] | None:
    """(namespace code, id) of the identityMap item marked primary, else the only identity."""
    identity_map = entity.get("identityMap")
    if not isinstance(identity_map, dict):
        return None
    first: tuple[str, str] | None = None
    count = 0
    for namespace, items in identity_map.items():
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                count += 1
                first = first or (namespace, item["id"])
                if item.get("primary") is True:
                    return (namespace, item["id"])
    return first if count == 1 else None


def all_identities(entity: dict[str, Any]) -> set[tuple[str, str]]:
    identity_map = entity.get("identityMap")
    out: set[tuple[str, str]] = set()
    if isinstance(identity_map, dict):
        for namespace, items in identity_map.items():
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    out.add((namespace, item["id"]))
    return out


def last_updated_date(entity: dict[str, Any]) -> str | None:
    audit = entity.get("extSourceSystemAudit")
    value = audit.get("lastUpdatedDate") if isinstance(audit, dict) else None
    return value if isinstance(value, str) else None


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Attribute-level merge: objects merge key by key, anything else is replaced.

    identityMap arrays are the exception: a profile's identities are the union of its
    fragments' identities (AEP stitches them), kept in first-seen order.
    """
    out = dict(base)
    for key, value in update.items():
        old = out.get(key)
        if key == "identityMap" and isinstance(old, dict) and isinstance(value, dict):
            merged = {ns: list(items) for ns, items in old.items()}
            for ns, items in value.items():
                have = merged.setdefault(ns, [])
                ids = {i.get("id") for i in have if isinstance(i, dict)}
                have.extend(i for i in items if isinstance(i, dict) and i.get("id") not in ids)
            out[key] = merged
        elif isinstance(old, dict) and isinstance(value, dict):
            out[key] = deep_merge(old, value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class MergedProfile:
    entity: dict[str, Any]
    sources: list[str]  # dataset ids
    tags: list[str]  # xactionIds of the fragments used
    identities: list[tuple[str, str]]
    last_modified_ms: int


def _identity_keys(entity: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(f"{ns}\x00{i}" for ns, i in all_identities(entity)))


class Prepared(NamedTuple):
    """A validated record ready for the store. A named tuple of atoms: it crosses from the
    validation process cheaply, and the store keeps it as a plain tuple."""

    dataset_id: str
    received_ms: int
    xaction_id: str
    batch_id: str
    flow_id: str | None
    operation: Operation
    entity_json: bytes
    identity: tuple[str, str] | None  # primary identity
    stamp: str | None  # extSourceSystemAudit.lastUpdatedDate
    identity_keys: tuple[str, ...]


def prepare(record: StoredRecord, entity: dict[str, Any]) -> Prepared:
    return Prepared(
        record.dataset_id,
        record.received_ms,
        record.xaction_id,
        record.batch_id,
        record.flow_id,
        record.operation,
        record.entity_json,
        primary_identity(entity),
        last_updated_date(entity),
        _identity_keys(entity),
    )


# A logged record (plain tuple of atoms; the collector skips it):
# (datasetId, receivedTimeMs, xactionId, batchId, flowId, operation, entity JSON)
LoggedRecord = tuple[str, int, str, str, str | None, str, bytes]


def _record_line(r: LoggedRecord) -> bytes:
    return orjson.dumps(
        {
            "xactionId": r[2],
            "batchId": r[3],
            "receivedTimeMs": r[1],
            "datasetId": r[0],
            "flowId": r[4],
            "operation": r[5],
            "entity": orjson.Fragment(r[6]),
        }
    )


class DataStore:
    """Thread-safe. Logs keep rendered JSON lines (bytes) rather than objects, for the same
    reason fragments are tuples: the collector's work must not grow with the data held."""

    def __init__(self, merge_mode: MergeMode, keep_records: bool = True) -> None:
        self.merge_mode = merge_mode
        self.keep_records = keep_records
        self._lock = threading.Lock()
        self._clear_unlocked()

    def _clear_unlocked(self) -> None:
        self._records: list[LoggedRecord] = []
        self._datasets_with_data: set[str] = set()
        self._failures: list[bytes] = []
        self._fragments: dict[tuple[str, str, str], Fragment] = {}
        self._seq = 0

    def clear(self) -> None:
        with self._lock:
            self._clear_unlocked()

    # ---- writes (the inlet and the validation worker) --------------------------------------

    def add_failures(self, failures: list[Failure]) -> None:
        self.add_failure_lines([f.json_line() for f in failures])

    def add_failure_lines(self, lines: list[bytes]) -> None:
        with self._lock:
            self._failures.extend(lines)

    def ingest(self, record: StoredRecord, entity: dict[str, Any]) -> bool:
        """Log the record and apply it to the Profile store; False if the store discarded it
        (timestamp mode, not newer). A record without an identity only reaches the log."""
        return self.ingest_prepared(prepare(record, entity))

    def ingest_prepared(self, item: Prepared) -> bool:
        """`ingest` with the per-record work (rendering, identity lookup) already done, e.g. in
        a validation process."""
        with self._lock:
            self._seq += 1
            self._datasets_with_data.add(item.dataset_id)
            if self.keep_records:
                self._records.append(
                    (
                        item.dataset_id,
                        item.received_ms,
                        item.xaction_id,
                        item.batch_id,
                        item.flow_id,
                        item.operation,
                        item.entity_json,
                    )
                )
            if item.identity is None:
                return True
            key = (item.dataset_id, item.identity[0], item.identity[1])
            if item.operation == "delete":
                self._fragments.pop(key, None)
                return True
            current = self._fragments.get(key)
            if (
                self.merge_mode == "timestamp"
                and current is not None
                and current[4] is not None
                and (item.stamp is None or item.stamp <= current[4])
            ):
                return False
            entity_json, identities = item.entity_json, item.identity_keys
            if item.operation == "merge" and current is not None:
                merged = deep_merge(orjson.loads(current[0]), orjson.loads(item.entity_json))
                entity_json = orjson.dumps(merged)
                identities = _identity_keys(merged)
            self._fragments[key] = (
                entity_json,
                self._seq,
                item.received_ms,
                item.xaction_id,
                item.stamp or (current[4] if current is not None else None),
                identities,
            )
            return True

    # ---- reads -----------------------------------------------------------------------------

    def has_records(self, dataset_id: str) -> bool:
        """Whether the dataset ever received data (schema evolution rules depend on it)."""
        with self._lock:
            return dataset_id in self._datasets_with_data

    def records(self, dataset_id: str | None = None, since_ms: int | None = None) -> list[bytes]:
        """JSON lines (`/_emulator/records`), in ingestion order."""
        with self._lock:
            snapshot = list(self._records)
        return [
            _record_line(r)
            for r in snapshot
            if (dataset_id is None or r[0] == dataset_id) and (since_ms is None or r[1] >= since_ms)
        ]

    def failures(self) -> list[bytes]:
        """JSON lines (`/_emulator/failures`), in the order they were found."""
        with self._lock:
            return list(self._failures)

    def profile(self, namespace: str, identity_id: str) -> MergedProfile | None:
        """The merged profile of one identity (namespace code matched case-insensitively, as
        Profile Access answers in lower case), or None when no fragment holds it."""
        wanted = f"{namespace.lower()}\x00{identity_id}"
        with self._lock:
            fragments = [
                (dataset_id, f)
                for (dataset_id, _, _), f in self._fragments.items()
                if any(_lower_ns(k) == wanted for k in f[5])
            ]
        if not fragments:
            return None
        if self.merge_mode == "timestamp":
            fragments.sort(key=lambda df: (df[1][4] or "", df[1][1]))
        else:
            fragments.sort(key=lambda df: df[1][1])
        entity: dict[str, Any] = {}
        sources: list[str] = []
        identities: set[tuple[str, str]] = set()
        for dataset_id, fragment in fragments:
            entity = deep_merge(entity, orjson.loads(fragment[0]))
            if dataset_id not in sources:
                sources.append(dataset_id)
            for key in fragment[5]:
                ns, _, value = key.partition("\x00")
                identities.add((ns, value))
        return MergedProfile(
            entity=entity,
            sources=sources,
            tags=[f[3] for _, f in fragments],
            identities=sorted(identities),
            last_modified_ms=max(f[2] for _, f in fragments),
        )


def _lower_ns(key: str) -> str:
    ns, _, value = key.partition("\x00")
    return f"{ns.lower()}\x00{value}"


def iter_json_lines(lines: list[bytes]) -> Iterator[bytes]:
    """Chunks of JSON lines, so a large log streams instead of being built in one piece."""
    for start in range(0, len(lines), 1000):
        yield b"\n".join(lines[start : start + 1000]) + b"\n"
