"""checkov (security posture of the chart and the Dockerfile) in a cached virtualenv of its own.

    python devenv/checkov_tool.py fetch     # once: a venv with devenv/checkov/requirements.txt
    python devenv/checkov_tool.py path      # the cached `checkov` executable

checkov pins `packaging<24` and brings about a hundred packages, so it cannot share the project's
virtualenv and constraints. Its venv lives in `~/.cache/commerce-profile-sync/checkov-<hash>/`
(or under `$PROFILE_SYNC_DEVENV_CACHE`), keyed by the hash of the requirements file: editing the
pins makes a new one.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devenv.kafka_local import DevenvError, cache_root, file_lock

REQUIREMENTS = Path(__file__).resolve().parent / "checkov" / "requirements.txt"
# checkov otherwise asks its vendor's API for guidelines and PyPI for a newer release; the
# checks themselves all ship in the package.
OFFLINE_ENV: Mapping[str, str] = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
}
OFFLINE_ARGS: tuple[str, ...] = ("--skip-download",)


def venv_dir() -> Path:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    return cache_root() / f"checkov-{digest}"


def checkov_path() -> Path:
    return venv_dir() / "bin" / "checkov"


def _base_python() -> str:
    # The interpreter under the project's venv, so the tool venv does not nest in it.
    return getattr(sys, "_base_executable", None) or sys.executable


def ensure_checkov() -> Path:
    """The checkov executable, installed on first use only."""
    executable = checkov_path()
    stamp = venv_dir() / ".installed"
    if stamp.is_file() and executable.is_file():
        return executable
    with file_lock(cache_root() / ".checkov.lock"):
        if stamp.is_file() and executable.is_file():
            return executable
        shutil.rmtree(venv_dir(), ignore_errors=True)
        steps = [
            [_base_python(), "-m", "venv", str(venv_dir())],
            [
                str(venv_dir() / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "-r",
                str(REQUIREMENTS),
            ],
        ]
        for cmd in steps:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
                raise DevenvError(f"{' '.join(cmd)} failed (exit {done.returncode})\n{tail}")
        stamp.write_text(REQUIREMENTS.read_text())
    return executable


def run_checkov(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """checkov with args, offline; the caller reads returncode and output."""
    cmd = [str(ensure_checkov()), *OFFLINE_ARGS, *args]
    env = {**os.environ, **OFFLINE_ENV}
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The cached checkov")
    parser.add_argument("command", choices=["fetch", "path"])
    args = parser.parse_args(argv)
    if args.command == "path":
        print(checkov_path())
        return 0 if checkov_path().is_file() else 1
    started = time.monotonic()
    try:
        executable = ensure_checkov()
    except DevenvError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"checkov ready in {executable} ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
