"""IMS: `POST /ims/token/v3` (OAuth server-to-server, client_credentials; docs/AEP.md §1.1).

Parameters come from the form body or the query string, as IMS allows. Any client id and secret
are accepted unless the emulator was started with `--client-id/--client-secret`.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.http import JSONResponse
from aep_emulator.state import EmulatorState

_REQUIRED = ("grant_type", "client_id", "client_secret", "scope")


def _error(error: str, description: str, status: int = 400) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def ims_routes(state: EmulatorState) -> list[Route]:
    options = state.options

    async def token(request: Request) -> Response:
        params = dict(request.query_params)
        body = await request.body()
        if body:
            try:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                return _error("invalid_request", "request body is not valid form data")
        for name in _REQUIRED:
            if not params.get(name):
                return _error("invalid_request", f"missing {name} parameter")
        if params["grant_type"] != "client_credentials":
            return _error("unsupported_grant_type", "unsupported grant_type parameter")
        if options.client_id is not None and not secrets.compare_digest(
            params["client_id"], options.client_id
        ):
            return _error("invalid_client", "invalid client_id parameter")
        if options.client_secret is not None and not secrets.compare_digest(
            params["client_secret"], options.client_secret
        ):
            return _error("invalid_client", "invalid client_secret parameter")
        issued = state.tokens.issue(params["client_id"])
        return JSONResponse(
            {
                "access_token": issued.access_token,
                "token_type": "bearer",
                "expires_in": issued.expires_in_s,
            }
        )

    return [Route("/ims/token/v3", token, methods=["POST"])]
