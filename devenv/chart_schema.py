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
# Every value that sets how many consumers may run at once: replicaCount always, the
# autoscalers' maxima only while that autoscaler is enabled.
ALWAYS: tuple[str, ...] = ("replicaCount",)
WHEN_ENABLED: tuple[tuple[str, str], ...] = (
    ("autoscaling", "maxReplicas"),
    ("keda", "maxReplicaCount"),
)


def clause(partitions: int) -> dict[str, Any]:
    properties: dict[str, Any] = {key: {"maximum": partitions} for key in ALWAYS}
    for section, key in WHEN_ENABLED:
        properties[section] = {
            "if": {"properties": {"enabled": {"const": True}}, "required": ["enabled"]},
            "then": {"properties": {key: {"maximum": partitions}}},
        }
    condition = {"properties": {"kafka": {"properties": {"partitions": {"const": partitions}}}}}
    return {"if": condition, "then": {"properties": properties}}


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
