"""Helm for the chart tests, built from the Go module proxy and cached like the Kafka jars.

    python devenv/helm_tool.py fetch     # once: `go install helm.sh/helm/v4/cmd/helm@v4.3.2`
    python devenv/helm_tool.py path      # the cached binary

The binary lives in `~/.cache/commerce-profile-sync/helm-<version>/bin/helm` (or under
`$PROFILE_SYNC_DEVENV_CACHE`); GOPATH and GOCACHE sit beside it so the build neither reads nor
fills the user's own Go directories. The Go build cache (over 1 GB) is dropped once the binary
exists; the module cache stays, so a rebuild downloads nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devenv.kafka_local import DevenvError, ToolMissingError, cache_root, file_lock

HELM_VERSION = "v4.3.2"
HELM_MODULE = "helm.sh/helm/v4"
GO_HINT = "install Go 1.24+ (the helm module needs it) and put `go` on PATH"


def helm_dir() -> Path:
    return cache_root() / f"helm-{HELM_VERSION}"


def helm_path() -> Path:
    return helm_dir() / "bin" / "helm"


def _go() -> str:
    # The official tarball's place, for shells whose PATH lacks it.
    fallback = Path("/usr/local/go/bin/go")
    go = shutil.which("go") or (str(fallback) if fallback.is_file() else None)
    if go is None:
        raise ToolMissingError(f"go not found: {GO_HINT}")
    return go


def ensure_helm() -> Path:
    """The helm binary, built on first use only."""
    binary = helm_path()
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    go = _go()
    root = helm_dir()
    with file_lock(root / ".lock"):
        if binary.is_file():
            return binary
        env = {
            **os.environ,
            "GOBIN": str(root / "bin.partial"),
            "GOPATH": str(root / "gopath"),
            "GOCACHE": str(root / "gocache"),
            "GOFLAGS": "-modcacherw",
            "CGO_ENABLED": "0",
        }
        # `helm version` reports the release, as a released binary does.
        ldflags = f"-X {HELM_MODULE}/internal/version.version={HELM_VERSION}"
        cmd = [go, "install", "-ldflags", ldflags, f"{HELM_MODULE}/cmd/helm@{HELM_VERSION}"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
            command = " ".join(cmd)
            raise DevenvError(f"go install failed (exit {done.returncode}): {command}\n{tail}")
        binary.parent.mkdir(parents=True, exist_ok=True)
        (root / "bin.partial" / "helm").rename(binary)
        shutil.rmtree(root / "bin.partial", ignore_errors=True)
        shutil.rmtree(root / "gocache", ignore_errors=True)
    return binary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The cached helm binary")
    parser.add_argument("command", choices=["fetch", "path"])
    args = parser.parse_args(argv)
    try:
        if args.command == "path":
            print(helm_path())
            return 0 if helm_path().is_file() else 1
        started = time.monotonic()
        binary = ensure_helm()
    except DevenvError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"helm {HELM_VERSION} ready in {binary} ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
