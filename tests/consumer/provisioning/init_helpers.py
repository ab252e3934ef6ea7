"""Helpers of the init job's tests: settings for the emulator, its write counter, a
Platform client, and partial AEP states made through the Platform API itself."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson

from consumer.aep.platform_client import PlatformClient
from consumer.aep.platform_session import platform_session
from consumer.commands.init import InitOutcome, reconcile, run_init
from consumer.config.settings import AepAuthSettings, AepResourceSettings, XdmSettings
from schemas.xdm import XdmOptions, field_group_ids

ORG = "0DD379AC5B117F6E0A494106@AdobeOrg"
CLIENT_ID = "init-tests"
SECRET = "init-tests-secret-value"


def no_sleep(_seconds: float) -> None:
    return None


class Aep:
    """The emulator seen from the tests."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = httpx.Client(base_url=url, timeout=10)

    def close(self) -> None:
        self.admin.close()

    def reset(self) -> None:
        self.admin.post("/_emulator/reset", json={"resources": True}).raise_for_status()

    def writes(self) -> int:
        return int(self.admin.get("/_emulator/stats").json()["requests"]["writes"])

    def requests(self) -> int:
        return int(self.admin.get("/_emulator/stats").json()["requests"]["total"])

    def auth(self, **overrides: Any) -> AepAuthSettings:
        values: dict[str, Any] = {
            "aep_ims_url": self.url,
            "aep_platform_url": self.url,
            "aep_client_id": CLIENT_ID,
            "aep_client_secret": SECRET,
            "aep_org_id": ORG,
        }
        values.update(overrides)
        return AepAuthSettings(**values)

    def env(self, **overrides: str) -> dict[str, str]:
        values = {
            "PROFILE_SYNC_AEP_IMS_URL": self.url,
            "PROFILE_SYNC_AEP_PLATFORM_URL": self.url,
            "PROFILE_SYNC_AEP_CLIENT_ID": CLIENT_ID,
            "PROFILE_SYNC_AEP_CLIENT_SECRET": SECRET,
            "PROFILE_SYNC_AEP_ORG_ID": ORG,
            "PROFILE_SYNC_AEP_DATAFLOW_WARMUP_S": "0",
        }
        values.update(overrides)
        return values

    @contextmanager
    def client(self, **overrides: Any) -> Iterator[PlatformClient]:
        with platform_session(self.auth(**overrides), sleep=no_sleep) as client:
            yield client

    def reconcile(
        self, *, plan_only: bool, xdm: XdmSettings | None = None, **resources: Any
    ) -> InitOutcome:
        with self.client() as client:
            return reconcile(
                client,
                AepResourceSettings(**resources),
                xdm or XdmSettings(),
                plan_only=plan_only,
            )


def changes(outcome: InitOutcome) -> list[tuple[str, str, str]]:
    return [(c.action, c.kind, c.key) for c in outcome.changes]


def wanted_ids(tenant_id: str | None = None, **options: Any) -> list[str]:
    return field_group_ids(XdmOptions(tenant_id=tenant_id, **options))


def cli_init(aep: Aep, *, plan: bool, **env: str) -> tuple[int, dict[str, Any] | None, str]:
    """`init --json` in-process with `env` on top of the emulator's settings: exit code, the
    parsed stdout line (None when stdout is empty) and stderr. The environment is restored."""
    values = aep.env(**env)
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    out, err = io.StringIO(), io.StringIO()
    try:
        code = run_init(None, plan=plan, as_json=True, stdout=out, stderr=err)
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
    text = out.getvalue()
    assert text == "" or text.count("\n") == 1, "stdout holds exactly one line"
    return code, (orjson.loads(text) if text else None), err.getvalue()
