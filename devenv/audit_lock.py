"""`make audit`: pip-audit over requirements.lock, failing only on a known vulnerability.

    python devenv/audit_lock.py [--lock requirements.lock]

pip-audit asks a vulnerability database about every pinned package: PyPI's JSON API first, then
OSV. Where neither answers (an offline box, a registry mirror that serves only the package index),
this says so on stderr and exits 0: an audit that could not run is reported, not mistaken for a
failed build. Exit 1: a known vulnerability (listed), or pip-audit itself broke on the lock.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOCK = REPO_ROOT / "requirements.lock"
SERVICES = ("pypi", "osv")
TIMEOUT_S = 300
# What pip-audit says when the database did not answer for a package, or not at all.
UNREACHABLE_MARKERS = (
    "not found on PyPI",
    "ConnectionError",
    "ProxyError",
    "NameResolutionError",
    "Max retries exceeded",
    "ReadTimeout",
    "ConnectTimeout",
    "SSLError",
)


@dataclass
class Outcome:
    service: str
    reachable: bool
    audited: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    vulnerable: list[str] = field(default_factory=list)
    detail: str = ""


def _unreachable(text: str) -> bool:
    return any(marker in text for marker in UNREACHABLE_MARKERS)


def audit(lock: Path, service: str) -> Outcome:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--disable-pip",  # the lock pins and hashes everything: nothing to resolve
            "--requirement",
            str(lock),
            "--vulnerability-service",
            service,
            "--format",
            "json",
            "--progress-spinner",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        if _unreachable(done.stderr):
            return Outcome(service, reachable=False, detail=last)
        raise RuntimeError(f"pip-audit failed (exit {done.returncode}): {last}") from None
    return summarize(service, report)


def summarize(service: str, report: dict[str, Any]) -> Outcome:
    """pip-audit's JSON report, read: vulnerable, audited and skipped packages."""
    outcome = Outcome(service, reachable=True)
    for dep in report.get("dependencies", []):
        label = f"{dep['name']} {dep.get('version', '')}".strip()
        if "skip_reason" in dep:
            outcome.skipped.append(label)
            outcome.detail = outcome.detail or str(dep["skip_reason"])
            continue
        outcome.audited.append(label)
        for vuln in dep.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            outcome.vulnerable.append(f"{label}: {vuln['id']} (fixed in {fixed})")
    if not outcome.audited and outcome.skipped:
        # every package skipped: the database did not answer
        outcome.reachable = False
        outcome.detail = f"no package could be looked up ({outcome.detail})"
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK)
    args = parser.parse_args(argv)
    lock: Path = args.lock
    if not lock.is_file():
        print(f"audit: {lock} does not exist: run `make lock`", file=sys.stderr)
        return 1
    tried: list[str] = []
    for service in SERVICES:
        try:
            outcome = audit(lock, service)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"audit: {exc}", file=sys.stderr)
            return 1
        if not outcome.reachable:
            tried.append(f"{service}: {outcome.detail}")
            continue
        for line in outcome.vulnerable:
            print(f"audit: VULNERABLE {line}", file=sys.stderr)
        if outcome.skipped:
            print(
                f"audit: {len(outcome.skipped)} package(s) not audited: "
                + ", ".join(outcome.skipped),
                file=sys.stderr,
            )
        print(
            f"audit: {len(outcome.audited)} locked package(s) checked against {service}, "
            f"{len(outcome.vulnerable)} known vulnerabilities"
        )
        return 1 if outcome.vulnerable else 0
    print(
        "audit: pip-audit could not reach a vulnerability database; "
        f"{lock.name} was NOT audited (not failing):\n  " + "\n  ".join(tried),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
