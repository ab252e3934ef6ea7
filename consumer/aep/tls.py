"""TLS to AEP (IMS, Platform, the inlet): which CAs the clients trust, and what an unverifiable
certificate means.

Verification is never off. `PROFILE_SYNC_AEP_CA_BUNDLE` (a PEM file) replaces the public CAs,
as `SSL_CERT_FILE` would: a corporate proxy that re-signs TLS needs its own CA there. A
certificate that fails verification is a configuration fault (exit 3), not an outage to retry.
"""

from __future__ import annotations

import functools
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from consumer.config.settings import variable

__all__ = ["aep_ssl_context", "certificate_failure", "untrusted_certificate"]


@functools.cache
def aep_ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """One context per bundle for the whole process (loading one costs ~0.15 s)."""
    if ca_bundle is None:
        return httpx.create_ssl_context()
    return ssl.create_default_context(cafile=str(ca_bundle))


def certificate_failure(exc: BaseException) -> str | None:
    """The verification failure behind a transport error, or None when it is something else."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return str(current.verify_message or current.reason or "certificate verify failed")
        current = current.__cause__ or current.__context__
    return "certificate verify failed" if "CERTIFICATE_VERIFY_FAILED" in str(exc) else None


def untrusted_certificate(url: str, reason: str) -> str:
    host = urlsplit(url).netloc or url
    return (
        f"the TLS certificate of {host} could not be verified ({reason}): check "
        f"{variable('aep_ca_bundle')} (a PEM bundle of the CAs to trust; unset, the public CAs)"
    )
