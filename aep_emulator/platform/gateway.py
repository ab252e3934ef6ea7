"""The Platform gateway in front of every `/data/...` route (docs/AEP.md §1.3, §1.4).

Checks, in the gateway's order: bearer token (issued by this emulator's IMS), API key (the
token's client id), IMS org header, and a JSON content type on writes. The sandbox header is
optional and defaults to `prod`, as the sink's guide says; the edge in `aep_emulator.app`
refuses unknown sandboxes before any route runs. Handlers get a `Call` with the checked
values and raise `PlatformError` for answers other than success.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.http import JSONResponse
from aep_emulator.options import EmulatorOptions
from aep_emulator.platform.errors import PlatformError, gateway_error, problem
from aep_emulator.resources import DEFAULT_SANDBOX, Resources
from aep_emulator.store import DataStore
from aep_emulator.tokens import TokenStore, bearer_token

_JSON_TYPES = ("application/json", "application/json-patch+json")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


class PlatformState(Protocol):
    """What the Platform routes need from the emulator's shared state."""

    @property
    def resources(self) -> Resources: ...

    @property
    def tokens(self) -> TokenStore: ...

    @property
    def options(self) -> EmulatorOptions: ...

    @property
    def store(self) -> DataStore: ...


@dataclass(frozen=True)
class Call:
    """One checked Platform request."""

    request: Request
    state: PlatformState
    client_id: str
    org_id: str
    sandbox: str

    @property
    def resources(self) -> Resources:
        return self.state.resources

    @property
    def tenant_id(self) -> str:
        return self.state.resources.tenant_id

    async def json(self) -> Any:
        """The request body; 400 (problem body) when it is not JSON."""
        raw = await self.request.body()
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise problem(400, "BadRequestError", "The request body is not valid JSON") from None


Handler = Callable[[Call], Awaitable[Response]]


class OrgBindings:
    """Which IMS org each credential belongs to.

    The emulator has no org directory, so a client id belongs to the first org it calls
    Platform with; a later call naming another org gets 403025, as a token used outside its
    org does on AEP.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._orgs: dict[str, str] = {}

    def check(self, client_id: str, org_id: str) -> bool:
        with self._lock:
            return self._orgs.setdefault(client_id, org_id) == org_id


_BINDINGS: weakref.WeakKeyDictionary[Any, OrgBindings] = weakref.WeakKeyDictionary()
_BINDINGS_LOCK = threading.Lock()


def org_bindings(state: PlatformState) -> OrgBindings:
    """The one `OrgBindings` of an emulator, shared by every Platform route group."""
    with _BINDINGS_LOCK:
        bindings = _BINDINGS.get(state)
        if bindings is None:
            bindings = _BINDINGS[state] = OrgBindings()
        return bindings


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


def error_response(error: PlatformError) -> Response:
    return JSONResponse(error.body, status_code=error.status)


def check(request: Request, state: PlatformState, orgs: OrgBindings) -> Call:
    """Run the gateway checks; raises PlatformError with the documented body."""
    headers = request.headers
    authorization = headers.get("authorization")
    if not authorization:
        raise gateway_error("403010", "Oauth token is missing.")
    token = state.tokens.lookup(bearer_token(authorization) or "")
    if token is None:
        raise gateway_error("401013", "Oauth token is not valid")
    api_key = headers.get("x-api-key")
    if not api_key:
        raise gateway_error("403000", "Api Key is required")
    if api_key != token.client_id:
        raise gateway_error("403003", "Api Key is invalid")
    org_id = headers.get("x-gw-ims-org-id")
    if not org_id:
        raise gateway_error("400003", "Missing header")
    if not org_id.endswith("@AdobeOrg") or org_id == "@AdobeOrg":
        raise gateway_error("403027", "User region is missing")
    if not orgs.check(token.client_id, org_id):
        raise gateway_error("403025", "Profile is not valid")
    # Which sandboxes exist is checked at the edge (aep_emulator.app) for every route.
    sandbox = headers.get("x-sandbox-name") or DEFAULT_SANDBOX
    if request.method in _WRITE_METHODS:
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in _JSON_TYPES:
            raise problem(400, "BadRequestError", "A valid content-type must be specified")
    return Call(
        request=request, state=state, client_id=token.client_id, org_id=org_id, sandbox=sandbox
    )


def endpoint(
    state: PlatformState, orgs: OrgBindings, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint that runs the gateway checks, then the handler."""

    async def run(request: Request) -> Response:
        try:
            call = check(request, state, orgs)
            return await handler(call)
        except PlatformError as error:
            return error_response(error)

    return run


def route_maker(
    base: str, state: PlatformState, orgs: OrgBindings
) -> Callable[[str, Callable[[Call], Any], list[str]], Route]:
    """`r(path, handler, methods)`: a route under `base` whose endpoint runs the gateway checks."""

    def r(path: str, handler: Callable[[Call], Any], methods: list[str]) -> Route:
        return Route(base + path, endpoint(state, orgs, handler), methods=methods)

    return r
