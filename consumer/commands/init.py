"""`profile-sync init [--plan] [--json]`: reconcile what AEP needs (docs/DESIGN.md §3, §4).

Exit codes: 0 done or nothing to do; 2 (`--plan` only) changes pending; 1 an error or drift
that init refuses to touch. With `--json` stdout holds exactly one JSON line (only on exit 0
or 2) and every human line goes to stderr.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import orjson
import structlog

from consumer.aep.platform_client import PlatformClient
from consumer.aep.platform_http import PlatformError, PlatformUnavailable
from consumer.aep.platform_session import platform_session
from consumer.aep.protocol import AepConfigurationFault
from consumer.config import exit_codes
from consumer.config.loading import load_all
from consumer.config.settings import AepAuthSettings, AepResourceSettings, XdmSettings
from consumer.provisioning.apply import apply_plan
from consumer.provisioning.desired import desired
from consumer.provisioning.observe import observe
from consumer.provisioning.plan import Change, Known, make_plan
from consumer.provisioning.report import json_line, ready_at, summary
from schemas.xdm import tenant_field_group

__all__ = ["InitOutcome", "reconcile", "run_init"]

_log = structlog.get_logger(__name__)


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class InitOutcome:
    known: Known
    changes: list[Change]  # made, or pending under `plan_only`
    refusals: list[str]
    planned_only: bool

    @property
    def exit_code(self) -> int:
        if self.refusals:
            return exit_codes.ERROR
        if self.planned_only and self.changes:
            return exit_codes.PLAN_HAS_CHANGES
        return exit_codes.OK


def reconcile(
    client: PlatformClient,
    resources: AepResourceSettings,
    xdm: XdmSettings,
    *,
    plan_only: bool,
    now_ms: Callable[[], int] = _now_ms,
) -> InitOutcome:
    """Observe (GETs), plan, and unless `plan_only` or refused, apply."""
    tenant_id = client.tenant_id()
    want = desired(tenant_id, resources, xdm)
    tenant_body = tenant_field_group(tenant_id) if want.tenant_fields else None
    plan = make_plan(observe(client, want), want, tenant_body)
    if plan.refusals or plan_only:
        return InitOutcome(plan.known, plan.changes, plan.refusals, planned_only=plan_only)
    known = apply_plan(client, want, plan, tenant_body, now_ms)
    return InitOutcome(known, plan.changes, [], planned_only=False)


def _emit(lines: list[str], out: TextIO) -> None:
    for line in lines:
        print(line, file=out)


def run_init(
    config_file: Path | None,
    *,
    plan: bool,
    as_json: bool,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    human = err if as_json else out
    auth, resources, xdm = load_all(config_file, AepAuthSettings, AepResourceSettings, XdmSettings)
    try:
        with platform_session(auth) as client:
            outcome = reconcile(client, resources, xdm, plan_only=plan)
    except (AepConfigurationFault, PlatformError, PlatformUnavailable) as exc:
        print(f"profile-sync init: {exc}", file=err)
        _log.error("init_failed", reason=str(exc))
        return exit_codes.ERROR
    except ValueError as exc:  # e.g. the tenant id AEP answered is not usable as XDM key
        print(f"profile-sync init: {exc}", file=err)
        return exit_codes.ERROR
    ready = ready_at(outcome.known, resources.aep_dataflow_warmup_s)
    _emit(
        summary(
            sandbox=auth.aep_sandbox,
            tenant_id=outcome.known.tenant_id,
            changes=outcome.changes,
            refusals=outcome.refusals,
            planned_only=outcome.planned_only,
            ready=ready,
            now=datetime.now(UTC),
        ),
        err if outcome.refusals else human,
    )
    code = outcome.exit_code
    _log.info("init_finished", changes=len(outcome.changes), exit_code=code, plan=plan)
    if as_json and code != exit_codes.ERROR:
        line: dict[str, Any] = json_line(outcome.known, outcome.changes, ready)
        out.write(orjson.dumps(line).decode() + "\n")
        out.flush()
    return code
