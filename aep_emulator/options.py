"""The emulator's settings: the `profile-sync emulator` options plus knobs for tests and benches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aep_emulator.resources import DEFAULT_TENANT_ID

# Per-message failure entries of the batch 207 (docs/AEP.md §2.6, a documented conflict):
# "sink" = what the live service answered the Adobe sink (`xactionId` "<uuid>-<i>", `status`,
# `message`); "docs" = the tutorial's shape (`statusCode`, `message`, no `xactionId`).
ResultFormat = Literal["sink", "docs"]
# How the profile read orders fragments: by ingestion time (AEP's default timestampOrdered
# merge policy) or by `extSourceSystemAudit.lastUpdatedDate` (customer timestamp ordering).
MergeMode = Literal["ingestion", "timestamp"]

DEFAULT_PORT = 8765


@dataclass(frozen=True)
class EmulatorOptions:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0 = any free port (running_emulator picks one)
    public_url: str | None = None  # base of the inlet URLs handed out; default: own address
    client_id: str | None = None  # with client_secret: the only credential IMS accepts
    client_secret: str | None = None
    sandboxes: tuple[str, ...] = ()  # accepted besides "prod"
    dataflow_warmup_s: float = 0.0
    require_flow_id: bool = False
    token_ttl_s: int = 86_399  # IMS's `expires_in`
    max_requests_per_s: float = 1000.0  # AEP's streaming guardrails; 0 turns a limit off
    max_messages_per_s: float = 10_000.0
    sync_validation_per_min: int = 60
    result_format: ResultFormat = "sink"
    merge_mode: MergeMode = "ingestion"
    validation: bool = True  # False: skip schema checks (size checks still apply)
    # Validate in this many worker processes (0: in a thread of the emulator's process). The
    # standalone server uses 1 so validation does not share the request path's GIL.
    validation_processes: int = 0
    tenant_id: str = DEFAULT_TENANT_ID
    log_level: str = "warning"
    # PEM certificate (chain) and key: serve HTTPS instead of HTTP (`--tls-cert/--tls-key`).
    tls_cert: str | None = None
    tls_key: str | None = None

    @property
    def own_url(self) -> str:
        scheme = "https" if self.tls_cert else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or self.own_url).rstrip("/")

    def sandbox_allowed(self, name: str) -> bool:
        return name == "prod" or name in self.sandboxes
