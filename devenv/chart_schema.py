"""The part of the chart's values.schema.json that JSON Schema cannot say in one rule.

JSON Schema compares a value with constants, never with another value, so "replicas ≤
kafka.partitions" is written as one `if kafka.partitions == n then every replica count ≤ n`
clause per n up to MAX_PARTITIONS (above it, the chart's templates still refuse the render).

    python devenv/chart_schema.py write    # regenerate the clauses in values.schema.json
    python devenv/chart_schema.py check    # exit 1 when the file's clauses are stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

CHART = Path(__file__).resolve().parents[1] / "helm" / "commerce-profile-sync"
SCHEMA = CHART / "values.schema.json"
MAX_PARTITIONS = 256
# Every value that sets how many consumers may run at once.
REPLICA_PATHS: tuple[tuple[str, ...], ...] = (
    ("replicaCount",),
    ("autoscaling", "maxReplicas"),
    ("keda", "maxReplicaCount"),
)


def _nested(path: tuple[str, ...], leaf: dict[str, Any]) -> dict[str, Any]:
    schema = leaf
    for key in reversed(path):
        schema = {"properties": {key: schema}}
    return schema


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def clause(partitions: int) -> dict[str, Any]:
    then: dict[str, Any] = {}
    for path in REPLICA_PATHS:
        _merge(then, _nested(path, {"maximum": partitions}))
    condition = _nested(("kafka", "partitions"), {"const": partitions})
    return {"if": condition, "then": then}


def clauses() -> list[dict[str, Any]]:
    return [clause(n) for n in range(1, MAX_PARTITIONS + 1)]


def render(schema: dict[str, Any]) -> str:
    """The schema as text: indented, with one clause per line so the file stays readable."""
    placeholder = "__REPLICAS_AT_MOST_PARTITIONS__"
    body = json.dumps({**schema, "allOf": placeholder}, indent=2)
    lines = ",\n    ".join(json.dumps(c, separators=(",", ":")) for c in clauses())
    return body.replace(f'"{placeholder}"', f"[\n    {lines}\n  ]") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="values.schema.json: replicas <= partitions")
    parser.add_argument("command", choices=["write", "check"])
    args = parser.parse_args(argv)
    current = SCHEMA.read_text()
    wanted = render(json.loads(current))
    if args.command == "write":
        SCHEMA.write_text(wanted)
        return 0
    if current != wanted:
        print(f"{SCHEMA} is stale: run python devenv/chart_schema.py write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
