"""The emulator's single Starlette app: IMS, Platform, the inlet and the admin API on one port.

`Edge` sits in front of every IMS, Platform and inlet route: it applies the fault set
(docs/DESIGN.md §8), refuses unknown sandboxes (`x-sandbox-name`), and counts requests for the
stats.
The admin API (`/_emulator/...`) is never faulted nor counted.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aep_emulator.admin import admin_routes
from aep_emulator.connection import ConnectionDropped, abort_current_connection
from aep_emulator.faults import Area
from aep_emulator.http import JSONResponse
from aep_emulator.ims import ims_routes
from aep_emulator.inlet import INLET_PROBLEM_TYPE, inlet_routes
from aep_emulator.options import EmulatorOptions
from aep_emulator.platform import platform_routes
from aep_emulator.platform.errors import problem
from aep_emulator.profile_api import profile_routes
from aep_emulator.state import EmulatorState

_TITLES = {
    400: "Bad Request",
    403: "Forbidden",
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def area_of(path: str) -> Area | None:
    if path.startswith("/collection/"):
        return "inlet"
    if path.startswith("/data/"):
        return "platform"
    if path.startswith("/ims/"):
        return "ims"
    return None


def error_response(area: Area, status: int, message: str, retry_after_s: int | None) -> Response:
    """An error in the family of bodies the area's real service uses."""
    title = _TITLES.get(status, "Error")
    body: dict[str, Any]
    if area == "inlet":
        body = {
            "type": INLET_PROBLEM_TYPE,
            "status": status,
            "title": title,
            "report": {"message": message},
        }
    elif area == "platform":
        body = {
            "type": "/placeholder/type/uri",
            "status": status,
            "title": title,
            "detail": message,
        }
    else:
        body = {"error": "server_error", "error_description": message}
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
    return JSONResponse(body, status_code=status, headers=headers)


class Edge:
    def __init__(self, app: ASGIApp, routes: list[BaseRoute], state: EmulatorState) -> None:
        self.app = app
        self.routes = routes
        self.state = state

    def _route_key(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return f"{scope['method']} {getattr(route, 'path', scope['path'])}"
        return f"{scope['method']} {scope['path']}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        area = area_of(scope["path"])
        if area is None:
            await self.app(scope, receive, send)
            return
        if area == "platform":
            scope = _without_trailing_slash(scope)
        status: int | str = "dropped"

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._serve(area, scope, receive, counting_send)
        finally:
            write = area == "platform" and scope["method"] not in ("GET", "HEAD")
            self.state.stats.count_request(self._route_key(scope), status, write=write)

    async def _serve(self, area: Area, scope: Scope, receive: Receive, send: Send) -> None:
        decision = self.state.faults.decide(area)
        if decision.refuse or decision.drop:
            if decision.delay_s:
                await asyncio.sleep(decision.delay_s)
            if not await abort_current_connection():
                raise ConnectionDropped("connection dropped by the emulator's fault set")
            return
        if decision.outage_503:
            response = error_response(
                area, 503, "Service unavailable (emulated outage)", decision.retry_after_s
            )
            await response(scope, receive, send)
            return
        if decision.delay_s:
            await asyncio.sleep(decision.delay_s)
        if decision.status is not None:
            response = error_response(
                area, decision.status, "Emulated failure", decision.retry_after_s
            )
            await response(scope, receive, send)
            return
        if area != "ims":
            sandbox = _header(scope, b"x-sandbox-name")
            if sandbox is not None and not self.state.options.sandbox_allowed(sandbox):
                response = error_response(
                    area, 403, f"Sandbox [{sandbox}] not found or not accessible", None
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _without_trailing_slash(scope: Scope) -> Scope:
    """One trailing slash on a Platform path routes like none, as on AEP (Adobe's own SDK
    calls `/tenant/schemas/`, `/stats/`, `PATCH /tenant/schemas/{id}/`)."""
    path: str = scope["path"]
    if not path.endswith("/") or path.endswith("//"):
        return scope
    raw: bytes = scope.get("raw_path") or path.encode()
    return {**scope, "path": path[:-1], "raw_path": raw[:-1] if raw.endswith(b"/") else raw}


async def _http_error(request: Request, error: Exception) -> Response:
    """Unknown routes and methods: JSON in the Platform's problem shape under `/data/...`
    (clients parse every Platform answer as JSON), Starlette's plain text elsewhere."""
    assert isinstance(error, HTTPException)
    if area_of(request.url.path) != "platform":
        return PlainTextResponse(error.detail, error.status_code, headers=error.headers)
    if error.status_code == 405:
        answer = problem(
            405,
            "MethodNotAllowedError",
            f"Method {request.method} is not allowed on {request.url.path}",
        )
    else:
        answer = problem(error.status_code, "NotFoundError", f"No resource at {request.url.path}")
    response = JSONResponse(answer.body, status_code=answer.status)
    if error.status_code == 405:
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def build_app(state: EmulatorState) -> Starlette:
    routes: list[BaseRoute] = [
        *ims_routes(state),
        *inlet_routes(state),
        *profile_routes(state),
        *platform_routes(state),
        *admin_routes(state),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.emulator = state
    app.add_middleware(Edge, routes=routes, state=state)
    return app


def create_app(options: EmulatorOptions | None = None) -> Starlette:
    """A fresh emulator app (own state) for in-process use, e.g. Starlette's TestClient."""
    return build_app(EmulatorState(options or EmulatorOptions()))
