"""Error bodies of the Platform APIs, as docs/AEP.md documents them.

Handlers raise `PlatformError`; the gateway wrapper turns it into the response, so every
error of one family has exactly one shape.
"""

from __future__ import annotations

from typing import Any

PROBLEM_TYPE = "/placeholder/type/uri"


class PlatformError(Exception):
    """An error answer: HTTP status plus the JSON body AEP would send."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"platform error {status}")
        self.status = status
        self.body = body


def gateway_error(error_code: str, message: str) -> PlatformError:
    """Gateway header errors (docs/AEP.md §1.4); status = first three digits of the code."""
    return PlatformError(int(error_code[:3]), {"error_code": error_code, "message": message})


def problem(status: int, title: str, detail: str) -> PlatformError:
    """Schema Registry style problem body (docs/AEP.md §3.9), also used by the gateway's
    content-type check and, for want of a documented body, by Catalog and Identity."""
    return PlatformError(
        status, {"type": PROBLEM_TYPE, "status": status, "title": title, "detail": detail}
    )


def bad_request(detail: str) -> PlatformError:
    return problem(400, "BadRequestError", detail)


def not_found(detail: str) -> PlatformError:
    return problem(404, "NotFoundError", detail)


def not_acceptable(detail: str) -> PlatformError:
    return problem(406, "NotAcceptableError", detail)


def flow_error(status: int, message: str) -> PlatformError:
    """Flow Service error body (docs/AEP.md §1.4 shows `errorMessage` for the etag case)."""
    return PlatformError(status, {"errorMessage": message})
