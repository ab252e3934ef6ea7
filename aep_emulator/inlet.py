"""The streaming inlet (DCS): `POST /collection/{inletId}` and `POST /collection/batch/{inletId}`.

What AEP answers, from docs/AEP.md §2 and docs/DESIGN.md §6 and §8:
- unknown inlet 404; authenticated inlet without a token 401, with a bad or expired one 403;
  body over 1,048,576 bytes 413; over the rate limits 429; unparsable body 400;
- the batch endpoint always answers 207 with one result per message, in order; a message with
  a broken envelope fails in its own entry (status 400), the others are acknowledged;
- acknowledged messages are validated later (`aep_emulator.ingest`); inside a new dataflow's
  warm-up window they are acknowledged and lost;
- the single endpoint answers 200, or 400 for a broken envelope; with `?syncValidation=true` it
  validates at once (60 requests a minute) and answers AEP's violation report.
"""

from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.http import JSONResponse
from aep_emulator.ingest import PendingMessage
from aep_emulator.resources import Connection, Dataset, Flow, Schema, now_ms
from aep_emulator.state import EmulatorState
from aep_emulator.store import Failure, FailureError, Operation
from aep_emulator.tokens import bearer_token
from aep_emulator.validation import Finding
from schemas.limits import REQUEST_LIMIT
from schemas.xdm.options import XdmOptions

INLET_PROBLEM_TYPE: Final = "http://ns.adobe.com/adobecloud/problem/data-collection-service/inlet"
AUTH_PROBLEM_TYPE: Final = (
    "https://ns.adobe.com/adobecloud/problem/data-collection-service-authorization"
)
FLOW_ID_HEADER: Final = "x-adobe-flow-id"
OPERATIONS: Final = ("create", "merge", "delete")

HEADER_MANDATORY: Final = (
    "The 'header' field is mandatory. Provide a valid 'header' value and try again."
)
BODY_MANDATORY: Final = "The 'body' field is mandatory. Provide a valid 'body' value and try again."
ENTITY_MANDATORY: Final = (
    "The 'xdmEntity' field is mandatory. Provide a valid 'xdmEntity' value and try again."
)

_batch_counter = itertools.count(1)
_node = os.getpid() % 10_000


class EnvelopeError(Exception):
    """A message the inlet refuses in its answer (status 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an accepted message goes."""

    dataset: Dataset
    schema: Schema
    flow: Flow | None
    warm_until_ms: int
    xdm: XdmOptions | None  # how the records are validated; None when validation is off


def _problem(status: int, title: str, message: str) -> Response:
    return JSONResponse(
        {
            "type": INLET_PROBLEM_TYPE,
            "status": status,
            "title": title,
            "report": {"message": message},
        },
        status_code=status,
    )


def _auth_problem(status: int, message: str) -> Response:
    # AEP sends `status` as a string in this body (docs/AEP.md §2.2).
    return JSONResponse(
        {
            "type": AUTH_PROBLEM_TYPE,
            "status": str(status),
            "title": "Authorization",
            "report": {"message": message},
        },
        status_code=status,
    )


class Inlet:
    """Request handling for one emulator; routing answers are cached per request."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.options = state.options

    # ---- request-level checks --------------------------------------------------------------

    async def _open(self, request: Request) -> tuple[Connection, bytes] | Response:
        inlet_id = request.path_params["inletId"]
        connection = self.state.resources.connection_by_inlet(inlet_id)
        if connection is None:
            return _problem(404, "Not Found", f"inletId: [{inlet_id}] Inlet not found")
        if connection.authentication_required:
            header = request.headers.get("authorization")
            token = bearer_token(header)
            request_ref = uuid.uuid4().hex[:12]
            if token is None:
                return _auth_problem(401, f"[{request_ref}] Ims service token is empty")
            if self.state.tokens.lookup(token) is None:
                return _auth_problem(
                    403, f"[{request_ref}] Provided authorization token is invalid or expired"
                )
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > REQUEST_LIMIT:
            return _too_large()
        body = await request.body()
        if len(body) > REQUEST_LIMIT:
            return _too_large()
        return connection, body

    def _prefix(self, inlet_id: str, org: str | None) -> str:
        return f"inletId: [{inlet_id}] imsOrgId: [{org or ''}]"

    # ---- per-message envelope and routing --------------------------------------------------

    def _route(
        self,
        connection: Connection,
        message: Any,
        request_flow_id: str | None,
        cache: dict[tuple[str | None, str | None, str | None], Destination | EnvelopeError],
    ) -> tuple[Destination, Operation, Any]:
        """(route, operation, xdmEntity) of an acceptable message; raises EnvelopeError."""
        if not isinstance(message, dict) or not isinstance(message.get("header"), dict):
            raise EnvelopeError(HEADER_MANDATORY)
        header: dict[str, Any] = message["header"]
        body = message.get("body")
        if not isinstance(body, dict):
            raise EnvelopeError(BODY_MANDATORY)
        inlet_id = connection.inlet_id or ""
        org = header.get("imsOrgId")
        prefix = self._prefix(inlet_id, org if isinstance(org, str) else None)
        if org is not None and (
            not isinstance(org, str)
            or (connection.ims_org is not None and org != connection.ims_org)
        ):
            raise EnvelopeError(f"{prefix} Message has an absent or wrong ims org in the header")
        schema_ref = header.get("schemaRef")
        schema_id = schema_ref.get("id") if isinstance(schema_ref, dict) else None
        content_type = schema_ref.get("contentType") if isinstance(schema_ref, dict) else None
        if (
            not isinstance(schema_id, str)
            or not isinstance(content_type, str)
            or not content_type.startswith("application/vnd.adobe.xed-full")
        ):
            raise EnvelopeError(f"{prefix} Message has unknown xdm format")
        flow_id = request_flow_id or header.get("flowId")
        dataset_id = header.get("datasetId")
        key = (
            flow_id if isinstance(flow_id, str) else None,
            dataset_id if isinstance(dataset_id, str) else None,
            schema_id,
        )
        route = cache.get(key)
        if route is None:
            try:
                route = self._resolve(connection, prefix, *key)
            except EnvelopeError as exc:
                route = exc
            cache[key] = route
        if isinstance(route, EnvelopeError):
            raise route
        operation = self._operation(header.get("operations"), route, prefix)
        entity = body.get("xdmEntity")
        if entity is None:
            raise EnvelopeError(ENTITY_MANDATORY)
        return route, operation, entity

    def _resolve(
        self,
        connection: Connection,
        prefix: str,
        flow_id: str | None,
        dataset_id: str | None,
        schema_id: str,
    ) -> Destination:
        resources = self.state.resources
        schema = resources.schemas.find(schema_id)
        if schema is None:
            raise EnvelopeError(f"{prefix} Message has unknown xdm format")
        flow: Flow | None = None
        warm_from_ms = connection.updated_ms
        if flow_id is not None:
            flow = resources.flows.get(flow_id)
            if flow is None or flow not in resources.flows_for_connection(connection.id):
                raise EnvelopeError(
                    f"{prefix} Message has an unknown flow id [{flow_id}] for this inlet"
                )
            dataset = resources.dataset_for_flow(flow)
            if dataset is None:
                raise EnvelopeError(f"{prefix} The flow [{flow_id}] has no target dataset")
            if dataset_id is not None and dataset_id != dataset.id:
                raise EnvelopeError(
                    f"{prefix} Message dataset [{dataset_id}] does not match the dataset "
                    f"[{dataset.id}] of flow [{flow_id}]"
                )
            warm_from_ms = flow.updated_ms
        else:
            if self.options.require_flow_id or resources.flows_for_connection(connection.id):
                raise EnvelopeError(
                    f"{prefix} Message has no flow id: send the dataflow id in the "
                    f"'{FLOW_ID_HEADER}' header"
                )
            if dataset_id is None:
                raise EnvelopeError(f"{prefix} Message has no dataset id in the header")
            found = resources.datasets.get(dataset_id)
            if found is None:
                raise EnvelopeError(f"{prefix} Message has an unknown dataset id [{dataset_id}]")
            dataset = found
        if dataset.schema_id != schema.id and dataset.schema_id != schema.alt_id:
            raise EnvelopeError(
                f"{prefix} Message schemaRef [{schema_id}] does not match the schema of "
                f"dataset [{dataset.id}]"
            )
        warm_until_ms = warm_from_ms + int(self.options.dataflow_warmup_s * 1000)
        xdm = self.state.validators.options_for(schema) if self.options.validation else None
        return Destination(
            dataset=dataset, schema=schema, flow=flow, warm_until_ms=warm_until_ms, xdm=xdm
        )

    def _operation(self, operations: Any, route: Destination, prefix: str) -> Operation:
        if operations is None:
            return "create"
        data = operations.get("data", "create") if isinstance(operations, dict) else None
        if data not in OPERATIONS:
            raise EnvelopeError(
                f"{prefix} Message has invalid operations in the header: "
                f"data must be one of [create, merge, delete]"
            )
        if self.options.merge_mode == "timestamp":
            raise EnvelopeError(
                f"{prefix} Message has operations in the header: streaming upserts are not "
                f"supported on datasets with customer timestamp ordering"
            )
        if route.flow is None or not route.flow.supports_operations:
            raise EnvelopeError(
                f"{prefix} Message has operations in the header but is not sent through a "
                f"dataflow with Data Prep (flow spec c1a19761-d2c7-4702-b9fa-fe91f0613e81)"
            )
        if not route.dataset.profile_enabled:
            raise EnvelopeError(
                f"{prefix} Message has operations in the header but dataset "
                f"[{route.dataset.id}] is not enabled for Profile"
            )
        return data  # type: ignore[no-any-return]

    # ---- endpoints -------------------------------------------------------------------------

    def _request_flow_id(self, request: Request) -> str | None:
        return request.headers.get(FLOW_ID_HEADER) or request.query_params.get(FLOW_ID_HEADER)

    async def batch(self, request: Request) -> Response:
        opened = await self._open(request)
        if isinstance(opened, Response):
            return opened
        connection, raw = opened
        inlet_id = connection.inlet_id or ""
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _problem(400, "Bad Request", f"inletId: [{inlet_id}] Payload is not valid JSON")
        messages = payload.get("messages") if isinstance(payload, dict) else None
        if not isinstance(messages, list) or not messages:
            return _problem(
                400,
                "Bad Request",
                f"inletId: [{inlet_id}] The 'messages' field is mandatory. Provide a non-empty "
                f"'messages' array and try again.",
            )
        if not self.state.limits.admit(len(messages)):
            return _problem(
                429, "Too Many Requests", "Too many requests within specified time duration"
            )
        received_ms = now_ms()
        batch_id = f"{received_ms}:{_node}:{next(_batch_counter)}"
        sink_format = self.options.result_format == "sink"
        xaction_base = str(uuid.uuid4()) + "-" if sink_format else batch_id + ":"
        request_flow_id = self._request_flow_id(request)
        cache: dict[tuple[str | None, str | None, str | None], Destination | EnvelopeError] = {}
        responses: list[dict[str, Any]] = []
        pending: list[PendingMessage] = []
        failures: list[Failure] = []
        warmup = 0
        for i, message in enumerate(messages):
            xaction_id = f"{xaction_base}{i}"
            try:
                route, operation, entity = self._route(connection, message, request_flow_id, cache)
            except EnvelopeError as exc:
                if sink_format:
                    responses.append(
                        {"xactionId": xaction_id, "status": 400, "message": exc.message}
                    )
                else:
                    responses.append({"statusCode": 400, "message": exc.message})
                failures.append(_envelope_failure(xaction_id, received_ms, message, exc.message))
                continue
            responses.append({"xactionId": xaction_id})
            if received_ms < route.warm_until_ms:
                warmup += 1
                failures.append(_warmup_failure(xaction_id, received_ms, route))
                continue
            pending.append(
                PendingMessage(
                    xaction_id=xaction_id,
                    batch_id=batch_id,
                    received_ms=received_ms,
                    dataset_id=route.dataset.id,
                    flow_id=route.flow.id if route.flow else None,
                    operation=operation,
                    entity=entity,
                    xdm=route.xdm,
                    index=i,
                )
            )
        rejected = sum(1 for f in failures if f.stage == "envelope")
        self.state.stats.count_messages(
            received=len(messages), rejected=rejected, dropped_warmup=warmup
        )
        if failures:
            self.state.store.add_failures(failures)
        self.state.worker.submit(pending, body=raw, kind="batch")
        return JSONResponse(
            {
                "inletId": inlet_id,
                "batchId": batch_id,
                "receivedTimeMs": received_ms,
                "responses": responses,
            },
            status_code=207,
        )

    async def single(self, request: Request) -> Response:
        sync = (
            request.query_params.get("syncValidation", "").lower() == "true"
            or request.query_params.get("synchronousValidation", "").lower() == "true"
        )
        opened = await self._open(request)
        if isinstance(opened, Response):
            return opened
        connection, raw = opened
        inlet_id = connection.inlet_id or ""
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _problem(400, "Bad Request", f"inletId: [{inlet_id}] Payload is not valid JSON")
        if not self.state.limits.admit(1) or (
            sync and not self.state.limits.sync_validation.take(1)
        ):
            return _problem(
                429, "Too Many Requests", "Too many requests within specified time duration"
            )
        received_ms = now_ms()
        xaction_id = f"{received_ms}:{_node}:{next(_batch_counter)}"
        try:
            route, operation, entity = self._route(
                connection, message, self._request_flow_id(request), {}
            )
        except EnvelopeError as exc:
            self.state.stats.count_messages(received=1, rejected=1)
            self.state.store.add_failures(
                [_envelope_failure(xaction_id, received_ms, message, exc.message)]
            )
            return _problem(400, "Invalid XDM Message Format", exc.message)
        answer: dict[str, Any] = {
            "inletId": inlet_id,
            "xactionId": xaction_id,
            "receivedTimeMs": received_ms,
            "syncValidation": {"skipped": True},
        }
        if sync:
            findings = self._sync_findings(route, operation, entity)
            if findings:
                self.state.stats.count_messages(received=1, rejected=1)
                org = message["header"].get("imsOrgId")
                prefix = self._prefix(inlet_id, org if isinstance(org, str) else None)
                return _sync_report(prefix, findings)
            answer["syncValidation"] = {"status": "pass"}
        self.state.stats.count_messages(received=1)
        if received_ms < route.warm_until_ms:
            self.state.stats.count_messages(dropped_warmup=1)
            self.state.store.add_failures([_warmup_failure(xaction_id, received_ms, route)])
        else:
            self.state.worker.submit(
                [
                    PendingMessage(
                        xaction_id=xaction_id,
                        batch_id=xaction_id,
                        received_ms=received_ms,
                        dataset_id=route.dataset.id,
                        flow_id=route.flow.id if route.flow else None,
                        operation=operation,
                        entity=entity,
                        xdm=route.xdm,
                    )
                ],
                body=raw,
                kind="single",
            )
        return JSONResponse(answer)

    def _sync_findings(
        self, route: Destination, operation: Operation, entity: Any
    ) -> list[Finding]:
        if not isinstance(entity, dict):
            return [
                Finding("#", "type", "expected type: JSONObject, found: " + type(entity).__name__)
            ]
        if operation == "delete" or route.xdm is None:
            return []
        findings = self.state.validators.checker_for(route.xdm)(entity)
        if operation == "merge":
            findings = [f for f in findings if f.keyword != "required"]
        return findings


def _too_large() -> Response:
    return _problem(
        413,
        "Payload Too Large",
        "Payload too large - thrown when the total payload request is greater than 1MB",
    )


def _schema_location(pointer: str) -> str:
    """`#/person/name` -> `#/properties/person/properties/name` (array indexes become items)."""
    parts = [p for p in pointer.lstrip("#").split("/") if p]
    out = ["#"]
    for part in parts:
        out.append("items" if part.isdigit() else f"properties/{part}")
    return "/".join(out)


def _sync_report(prefix: str, findings: list[Finding]) -> Response:
    causes = [
        {
            "schemaLocation": _schema_location(f.pointer),
            "pointerToViolation": f.pointer,
            "causingExceptions": [],
            "keyword": f.keyword,
            "message": f.message,
        }
        for f in findings
    ]
    return JSONResponse(
        {
            "type": INLET_PROBLEM_TYPE,
            "status": 400,
            "title": "Invalid XDM Message Format",
            "report": {
                "message": f"{prefix} Message is invalid",
                "cause": {
                    "_streamingValidation": [
                        {
                            "schemaLocation": "#",
                            "pointerToViolation": "#",
                            "causingExceptions": causes,
                            "message": f"{len(causes)} schema violations found",
                        }
                    ]
                },
            },
        },
        status_code=400,
    )


def _dataset_of(message: Any) -> str | None:
    header = message.get("header") if isinstance(message, dict) else None
    dataset_id = header.get("datasetId") if isinstance(header, dict) else None
    return dataset_id if isinstance(dataset_id, str) else None


def _envelope_failure(xaction_id: str, received_ms: int, message: Any, text: str) -> Failure:
    return Failure(
        xaction_id=xaction_id,
        received_ms=received_ms,
        dataset_id=_dataset_of(message),
        stage="envelope",
        status=400,
        errors=(FailureError("#/header", "envelope", text),),
    )


def _warmup_failure(xaction_id: str, received_ms: int, route: Destination) -> Failure:
    return Failure(
        xaction_id=xaction_id,
        received_ms=received_ms,
        dataset_id=route.dataset.id,
        stage="warmup",
        status=200,
        errors=(
            FailureError(
                "#",
                "warmup",
                f"Received before the dataflow was ready (until [{route.warm_until_ms}]); "
                f"the message was acknowledged and lost",
            ),
        ),
    )


def inlet_routes(state: EmulatorState) -> list[Route]:
    inlet = Inlet(state)
    return [
        Route("/collection/batch/{inletId}", inlet.batch, methods=["POST"]),
        Route("/collection/{inletId}", inlet.single, methods=["POST"]),
    ]
