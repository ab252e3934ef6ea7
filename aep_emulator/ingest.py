"""Asynchronous ingestion, as in AEP: the inlet acknowledges, this worker decides later.

The inlet submits acknowledged messages; each record is measured, validated against its
dataset's schema (`evaluate`, a pure function) and then stored or listed in the failures, in
submission order. The backlog (messages submitted but not yet decided, and the age of the
oldest) is what the "validation backlog" figure reads.

Two ways to run `evaluate`:
- in a thread of the emulator's process (`processes=0`: tests, in-process use);
- in `processes` worker processes, so that validation does not share the request path's GIL
  (the standalone server). They receive the raw request body and re-parse it, which is cheaper
  than shipping parsed objects; an applier thread stores their results in submission order.
"""

from __future__ import annotations

import collections
import concurrent.futures
import gc
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal

import orjson

from aep_emulator.stats import Stats
from aep_emulator.store import (
    DataStore,
    Failure,
    FailureError,
    Operation,
    Prepared,
    StoredRecord,
    last_updated_date,
    prepare,
)
from aep_emulator.validation import RecordChecker, compile_checker
from schemas.limits import RECORD_LIMIT
from schemas.xdm.options import XdmOptions

log = logging.getLogger(__name__)

# Outcome kinds
OK: Final = 0
TOO_LARGE: Final = 1
INVALID: Final = 2


@dataclass(slots=True)  # not frozen: built per message on the hot path
class PendingMessage:
    xaction_id: str
    batch_id: str
    received_ms: int
    dataset_id: str
    flow_id: str | None
    operation: Operation
    entity: Any  # body.xdmEntity, as parsed
    xdm: XdmOptions | None  # how to validate; None = no schema check
    index: int = 0  # position in the request's `messages` (batch endpoint)


# What `evaluate` needs of a message, as atoms (it may cross a process boundary).
Meta = tuple[str, str, int, str, str | None, Operation, XdmOptions | None]
Outcome = tuple[int, Prepared | bytes]  # (OK, Prepared) or (TOO_LARGE | INVALID, failure line)


def meta_of(m: PendingMessage) -> Meta:
    return (m.xaction_id, m.batch_id, m.received_ms, m.dataset_id, m.flow_id, m.operation, m.xdm)


def evaluate(
    entities: list[Any],
    metas: list[Meta],
    checker_for: Callable[[XdmOptions], RecordChecker],
    *,
    timestamp_mode: bool,
) -> list[Outcome]:
    """Measure, validate and render each record; one outcome per message, in order."""
    out: list[Outcome] = []
    for entity, (xaction_id, batch_id, received_ms, dataset_id, flow_id, operation, xdm) in zip(
        entities, metas, strict=True
    ):
        entity_json = orjson.dumps(entity)
        size = len(entity_json)
        if size > RECORD_LIMIT:
            error = FailureError(
                "#",
                "maxSize",
                f"Record size [{size}] bytes exceeds the profile record limit of "
                f"[{RECORD_LIMIT}] bytes; the record was dropped",
            )
            failure = Failure(xaction_id, received_ms, dataset_id, "size", 413, (error,))
            out.append((TOO_LARGE, failure.json_line()))
            continue
        errors = _check(entity, operation, xdm, checker_for, timestamp_mode)
        if errors:
            failure = Failure(xaction_id, received_ms, dataset_id, "validation", 400, tuple(errors))
            out.append((INVALID, failure.json_line()))
            continue
        record = StoredRecord(
            xaction_id, batch_id, received_ms, dataset_id, flow_id, operation, entity_json
        )
        out.append((OK, prepare(record, entity if isinstance(entity, dict) else {})))
    return out


def _check(
    entity: Any,
    operation: Operation,
    xdm: XdmOptions | None,
    checker_for: Callable[[XdmOptions], RecordChecker],
    timestamp_mode: bool,
) -> list[FailureError]:
    if not isinstance(entity, dict):
        return [FailureError("#", "type", "expected type: JSONObject, found: " + _kind(entity))]
    if operation == "delete":
        # A delete names the identity only; there is no row to check.
        return []
    errors: list[FailureError] = []
    if timestamp_mode and last_updated_date(entity) is None:
        errors.append(
            FailureError(
                "#/extSourceSystemAudit", "required", "required key [lastUpdatedDate] not found"
            )
        )
    if xdm is not None:
        findings = checker_for(xdm)(entity)
        if operation == "merge":
            # A merge is a partial row: absent fields are fine.
            findings = [f for f in findings if f.keyword != "required"]
        errors.extend(FailureError(f.pointer, f.keyword, f.message) for f in findings)
    return errors


def _kind(value: Any) -> str:
    names = {list: "JSONArray", str: "String", bool: "Boolean", int: "Integer", float: "Double"}
    return names.get(type(value), "Null")


# ---- worker processes --------------------------------------------------------------------------


def _process_init(parent_pid: int) -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    # A worker must not outlive its emulator, however the emulator ended (even SIGKILL).
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(0)


_cached_checker: Callable[[XdmOptions], RecordChecker] = cache(compile_checker)


def _evaluate_in_process(
    kind: Literal["batch", "single"],
    body: bytes,
    indices: list[int],
    metas: list[Meta],
    timestamp_mode: bool,
) -> list[Outcome]:
    payload = orjson.loads(body)
    if kind == "batch":
        messages = payload["messages"]
        entities = [messages[i]["body"]["xdmEntity"] for i in indices]
    else:
        entities = [payload["body"]["xdmEntity"]]
    return evaluate(entities, metas, _cached_checker, timestamp_mode=timestamp_mode)


# ---- the worker ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backlog:
    messages: int
    oldest_s: float

    def as_json(self) -> dict[str, float | int]:
        return {"messages": self.messages, "oldest_s": round(self.oldest_s, 3)}


# (message count, future of a worker process, or the messages to evaluate in this thread)
_Job = tuple[int, "concurrent.futures.Future[list[Outcome]] | None", list[PendingMessage]]


class IngestWorker:
    def __init__(
        self,
        store: DataStore,
        stats: Stats,
        checker_for: Callable[[XdmOptions], RecordChecker],
        *,
        timestamp_mode: bool,
        processes: int = 0,
    ) -> None:
        self._store = store
        self._stats = stats
        self._checker_for = checker_for
        self._timestamp_mode = timestamp_mode
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        if processes > 0:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_process_init,
                initargs=(os.getpid(),),
            )
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        # (submit time, size) of jobs not yet applied, oldest first.
        self._pending: collections.deque[tuple[float, int]] = collections.deque()
        self._pending_lock = threading.Lock()
        self._pending_messages = 0
        self._idle = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="aep-emulator-ingest", daemon=True)
        self._thread.start()

    def submit(
        self,
        messages: list[PendingMessage],
        *,
        body: bytes = b"",
        kind: Literal["batch", "single"] = "batch",
    ) -> None:
        """Queue acknowledged messages; `body` is the raw request (used by worker processes)."""
        if not messages:
            return
        with self._pending_lock:
            self._pending.append((time.monotonic(), len(messages)))
            self._pending_messages += len(messages)
        if self._pool is None:
            self._queue.put((len(messages), None, messages))
            return
        future = self._pool.submit(
            _evaluate_in_process,
            kind,
            body,
            [m.index for m in messages],
            [meta_of(m) for m in messages],
            self._timestamp_mode,
        )
        # The parsed messages are not kept: the worker process re-reads the body.
        self._queue.put((len(messages), future, []))

    def backlog(self) -> Backlog:
        with self._pending_lock:
            if not self._pending:
                return Backlog(0, 0.0)
            return Backlog(self._pending_messages, time.monotonic() - self._pending[0][0])

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Block until everything submitted so far is decided (tests, admin reads)."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self.backlog().messages:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            count, future, messages = job
            try:
                if future is not None:
                    outcomes = future.result()
                else:
                    outcomes = evaluate(
                        [m.entity for m in messages],
                        [meta_of(m) for m in messages],
                        self._checker_for,
                        timestamp_mode=self._timestamp_mode,
                    )
                self._apply(outcomes)
            except Exception:  # a bug here must not stop ingestion for good
                log.exception("ingest worker failed on a batch")
            finally:
                with self._pending_lock:
                    self._pending.popleft()
                    self._pending_messages -= count
                with self._idle:
                    self._idle.notify_all()

    def _apply(self, outcomes: list[Outcome]) -> None:
        failures: list[bytes] = []
        accepted = deleted = too_large = invalid = 0
        for kind, value in outcomes:
            if isinstance(value, Prepared):
                self._store.ingest_prepared(value)
                accepted += 1
                deleted += value.operation == "delete"
            else:
                failures.append(value)
                too_large += kind == TOO_LARGE
                invalid += kind == INVALID
        if failures:
            self._store.add_failure_lines(failures)
        self._stats.count_messages(
            accepted=accepted,
            deleted=deleted,
            dropped_too_large=too_large,
            failed_validation=invalid,
        )
