"""The session's real Schema Registry (Apicurio, Confluent-compatible API), started lazily."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from devenv import kafka_local, schema_registry

READY_TIMEOUT_S = float(os.environ.get("PROFILE_SYNC_TEST_REGISTRY_READY_TIMEOUT_S", "180"))


def session_registry(run_dir: Path) -> Iterator[schema_registry.Registry]:
    try:
        kafka_local.check_tools(need_mvn=False)
        registry = schema_registry.start_registry(
            run_dir, kafka_local.free_port(), timeout=READY_TIMEOUT_S
        )
    except kafka_local.DevenvError as exc:
        raise RuntimeError(f"could not start the test Schema Registry: {exc}") from exc
    try:
        yield registry
    finally:
        registry.stop()
