"""The admin API of docs/DESIGN.md §8 (`/_emulator/...`), exactly as pinned there.

Reads of records and failures first wait (up to 30 s) for the asynchronous validation backlog
to drain, so that what they return is everything the emulator acknowledged so far; `?wait=false`
answers at once.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from aep_emulator.faults import FaultSpec
from aep_emulator.http import JSONResponse
from aep_emulator.state import EmulatorState
from aep_emulator.store import iter_json_lines

_NDJSON = "application/x-ndjson"
_DRAIN_TIMEOUT_S = 30.0


def _bad_request(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=400)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    return orjson.loads(raw)


def admin_routes(state: EmulatorState) -> list[Route]:
    async def drain(request: Request) -> None:
        if request.query_params.get("wait", "true").lower() != "false":
            await run_in_threadpool(state.worker.wait_idle, _DRAIN_TIMEOUT_S)

    async def get_faults(request: Request) -> Response:
        return JSONResponse(state.faults.spec.model_dump())

    async def post_faults(request: Request) -> Response:
        try:
            body = await _json_body(request)
            if not isinstance(body, dict):
                return _bad_request("the fault set must be a JSON object")
            spec = FaultSpec.model_validate(body)
        except orjson.JSONDecodeError:
            return _bad_request("body is not valid JSON")
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
            return _bad_request("invalid fault set: " + ", ".join(fields))
        state.faults.replace(spec)
        task = None
        if spec.outage_mode == "refuse" and spec.outage_s > 0 and state.listener is not None:
            # After this answer has gone out: then stop accepting connections.
            task = BackgroundTask(state.listener.refuse_for, spec.outage_s)
        return JSONResponse(spec.model_dump(), background=task)

    async def stats(request: Request) -> Response:
        body = state.stats.snapshot()
        body["validation"] = {"backlog": state.worker.backlog().as_json()}
        return JSONResponse(body)

    async def records(request: Request) -> Response:
        dataset_id = request.query_params.get("datasetId") or None
        since_raw = request.query_params.get("since_ms") or None
        try:
            since_ms = int(since_raw) if since_raw is not None else None
        except ValueError:
            return _bad_request("since_ms must be an integer (epoch milliseconds)")
        await drain(request)
        # Rendering a large log takes a while: not on the event loop.
        items = await run_in_threadpool(state.store.records, dataset_id, since_ms)
        return StreamingResponse(iter_json_lines(items), media_type=_NDJSON)

    async def failures(request: Request) -> Response:
        await drain(request)
        items = state.store.failures()
        return StreamingResponse(iter_json_lines(items), media_type=_NDJSON)

    async def reset(request: Request) -> Response:
        try:
            body = await _json_body(request)
        except orjson.JSONDecodeError:
            return _bad_request("body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("resources", False), bool):
            return _bad_request('expected {} or {"resources": true|false}')
        await run_in_threadpool(state.reset, resources=bool(body.get("resources", False)))
        return JSONResponse({"reset": True, "resources": bool(body.get("resources", False))})

    return [
        Route("/_emulator/faults", get_faults, methods=["GET"]),
        Route("/_emulator/faults", post_faults, methods=["POST"]),
        Route("/_emulator/stats", stats, methods=["GET"]),
        Route("/_emulator/records", records, methods=["GET"]),
        Route("/_emulator/failures", failures, methods=["GET"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
    ]
