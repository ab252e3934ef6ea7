"""Running `profile-sync` in-process with only the PROFILE_SYNC_* variables a test gives."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import orjson
from click.testing import CliRunner, Result

from consumer.cli import main


def cli(env: Mapping[str, str], *args: str, stdin: str | None = None) -> Result:
    """`profile-sync ARGS`; every PROFILE_SYNC_* variable not in `env` is unset meanwhile."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PROFILE_SYNC_")}
    return CliRunner().invoke(
        main, list(args), input=stdin, env={**unset, **env}, catch_exceptions=False
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]
