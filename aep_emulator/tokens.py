"""IMS access tokens: issued by `/ims/token/v3`, checked by Platform routes and auth inlets."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    client_id: str
    expires_at: float  # time.monotonic() deadline
    expires_in_s: int


class TokenStore:
    """Opaque bearer tokens with an expiry; tokens survive the admin reset (clients hold them)."""

    def __init__(self, ttl_s: int) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._tokens: dict[str, IssuedToken] = {}

    def issue(self, client_id: str) -> IssuedToken:
        now = time.monotonic()
        token = IssuedToken(
            access_token="eyJ" + secrets.token_urlsafe(48),
            client_id=client_id,
            expires_at=now + self.ttl_s,
            expires_in_s=self.ttl_s,
        )
        with self._lock:
            # Forget expired tokens now and then so a long run does not grow without bound.
            if len(self._tokens) > 1000:
                self._tokens = {k: v for k, v in self._tokens.items() if v.expires_at > now}
            self._tokens[token.access_token] = token
        return token

    def lookup(self, access_token: str) -> IssuedToken | None:
        """The token if it was issued here and has not expired."""
        with self._lock:
            token = self._tokens.get(access_token)
        if token is None or token.expires_at <= time.monotonic():
            return None
        return token


def bearer_token(header: str | None) -> str | None:
    """The token of a `Bearer` Authorization header, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
