"""What `init` prints: the one JSON line of docs/DESIGN.md §4 and the human summary."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from consumer.provisioning.plan import Change, Known


def ready_at(known: Known, warmup_s: float) -> datetime | None:
    """When the dataflow accepts data: its creation plus the warm-up (past for an old flow).
    Rounded up to the second, so that it never claims readiness early."""
    if known.flow_id is None or known.flow_created_ms is None:
        return None
    seconds = math.ceil(known.flow_created_ms / 1000 + warmup_s)
    return datetime.fromtimestamp(seconds, tz=UTC)


def iso_z(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_line(known: Known, changes: Sequence[Change], ready: datetime | None) -> dict[str, Any]:
    """Keys map to `PROFILE_SYNC_AEP_*` settings (consumer.config.settings.INIT_OUTPUT_KEYS), so the
    line is a config file for `run`."""
    return {
        "tenant_id": known.tenant_id,
        "schema_id": known.schema_id,
        "dataset_id": known.dataset_id,
        "connection_id": known.connection_id,
        "inlet_url": known.inlet_url,
        "flow_id": known.flow_id,
        "ready_at": iso_z(ready),
        "changes": [c.as_json() for c in changes],
    }


def summary(
    *,
    sandbox: str,
    tenant_id: str,
    changes: Sequence[Change],
    refusals: Sequence[str],
    planned_only: bool,
    ready: datetime | None,
    now: datetime,
) -> list[str]:
    lines = [f"profile-sync init: sandbox {sandbox!r}, tenant {tenant_id!r}"]
    if refusals:
        lines.append("refused: AEP holds resources init cannot reconcile without a breaking or")
        lines.append("irreversible change; nothing was written:")
        lines += [f"  - {reason}" for reason in refusals]
        return lines
    verb = "would" if planned_only else "did"
    lines += [f"  {verb} {change.describe()}" for change in changes]
    if not changes:
        lines.append("nothing to do: every resource is in place")
    elif planned_only:
        lines.append(f"{len(changes)} change(s) pending; nothing was written (--plan)")
    else:
        lines.append(f"{len(changes)} change(s) made")
    if ready is not None:
        wait = (ready - now).total_seconds()
        when = iso_z(ready)
        lines.append(
            f"the dataflow accepts data from {when}"
            + (f" (in {math.ceil(wait)} s; `run` waits until then)" if wait > 0 else "")
        )
    return lines
