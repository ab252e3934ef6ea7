"""`make image`: the project's Dockerfile built with buildah on a locally made Debian base.

No Docker daemon is needed and no registry of base images is reached:

    python devenv/image.py base          # the cached base image (debootstrap), its name on stdout
    python devenv/image.py native-wheel  # the native core's wheel in native/dist/ (cargo)
    python devenv/image.py build         # base + `buildah bud` of the Dockerfile -> IMAGE

The base is Debian bookworm (minbase) with python3, python3-venv, python3-pip and
ca-certificates (what an official slim Python image offers), plus this host's own CA
certificates: package registries may be reached through a TLS proxy that only the host trusts.
It is cached twice, keyed by a hash of its recipe (including those certificates): in buildah's
local storage as `localhost/commerce-profile-sync-base:<key>`, and as an OCI archive under
`~/.cache/commerce-profile-sync/image-base/` (or `$PROFILE_SYNC_DEVENV_CACHE`), so a wiped
container storage reloads it in seconds instead of running debootstrap again.

pip settings of this host that the build needs (index, proxy, certificate bundle) go to the
build as a secret `pip.conf`, never as build arguments: nothing of them lands in the image.

The native core's wheel (native/, Rust) is built on this host first, into `native/dist/`, and the
Dockerfile installs it: no Rust toolchain in the build or the image. Its platform tag is the
host's glibc; the base is Debian bookworm, as this host's builds for it must be.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devenv.kafka_local import DevenvError, ToolMissingError, cache_root, file_lock

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGE = "localhost/commerce-profile-sync:dev"
BASE_REPOSITORY = "localhost/commerce-profile-sync-base"
SUITE = "bookworm"
VARIANT = "minbase"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
MIRROR_ENV = "PROFILE_SYNC_DEBIAN_MIRROR"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# Certificates the host added to its trust store (Debian's update-ca-certificates layout).
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
# The bundle update-ca-certificates writes, in the base and in official Debian-based images.
IMAGE_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Bumped when the steps below change in a way the hash of the inputs does not see.
RECIPE_VERSION = 1
PIP_KEYS_PASSED = ("index-url", "extra-index-url", "trusted-host", "proxy", "timeout")
APT_HINT = "apt-get update && apt-get install -y buildah debootstrap"
# `buildah bud` names each step's image: "--> 4d68c192ee6" or "--> Using cache 4d68c1...".
_BUILD_STEP = re.compile(r"^--> (?:Using cache )?([0-9a-f]{11,64})$", re.MULTILINE)


@dataclass(frozen=True)
class BaseImage:
    name: str
    # "storage" (already there), "archive" (reloaded from the cache) or "debootstrap" (built).
    source: str
    seconds: float


@dataclass(frozen=True)
class BuiltImage:
    name: str
    base: BaseImage
    build_seconds: float
    size: str


def check_tools() -> None:
    missing = [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]
    if missing:
        raise ToolMissingError(f"{' and '.join(missing)} not found: {APT_HINT}")


def _run(cmd: Sequence[str], *, echo: bool = False) -> str:
    done = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if echo:
        print(done.stdout, end="", flush=True)
        print(done.stderr, end="", file=sys.stderr, flush=True)
    if done.returncode != 0:
        output = ((done.stdout or "") + (done.stderr or "")).strip().splitlines()
        tail = "\n".join(output[-25:])
        raise DevenvError(f"{cmd[0]} failed (exit {done.returncode}): {' '.join(cmd)}\n{tail}")
    return (done.stdout or "").strip()


def host_certificates() -> list[Path]:
    if not HOST_CA_DIR.is_dir():
        return []
    return sorted(path for path in HOST_CA_DIR.rglob("*.crt") if path.is_file())


def mirror() -> str:
    return os.environ.get(MIRROR_ENV, "").strip() or DEFAULT_MIRROR


def recipe_key() -> str:
    """What the base is made of; any change makes a new base."""
    recipe = {
        "version": RECIPE_VERSION,
        "suite": SUITE,
        "variant": VARIANT,
        "packages": PACKAGES,
        "mirror": mirror(),
        "certificates": {
            str(path.relative_to(HOST_CA_DIR)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in host_certificates()
        },
    }
    encoded = json.dumps(recipe, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def base_dir() -> Path:
    return cache_root() / "image-base"


def image_exists(name: str) -> bool:
    done = subprocess.run(
        ["buildah", "inspect", "--type", "image", name], capture_output=True, check=False
    )
    return done.returncode == 0


def _debootstrap(rootfs: Path) -> None:
    _run(
        [
            "debootstrap",
            f"--variant={VARIANT}",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(rootfs),
            mirror(),
        ]
    )
    # Package caches and lists are build leftovers: the image never runs apt.
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (rootfs / leftover).glob("*"):
            if path.is_file():
                path.unlink()
    certificates = rootfs / "usr/local/share/ca-certificates"
    certificates.mkdir(parents=True, exist_ok=True)
    for path in host_certificates():
        shutil.copyfile(path, certificates / f"host-{path.name}")
    _run(["chroot", str(rootfs), "update-ca-certificates"])


def _commit_rootfs(rootfs: Path, name: str, work: Path) -> None:
    archive = work / "rootfs.tar"
    _run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(archive), "."])
    container = _run(["buildah", "from", "scratch"])
    try:
        _run(["buildah", "add", "--quiet", container, str(archive), "/"])
        _run(
            [
                "buildah",
                "config",
                "--env",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--env",
                "LANG=C.UTF-8",
                "--cmd",
                "python3",
                "--label",
                f"org.opencontainers.image.description=Debian {SUITE} {VARIANT} + python3",
                container,
            ]
        )
        _run(["buildah", "commit", "--quiet", "--rm", container, name])
    except BaseException:
        subprocess.run(["buildah", "rm", container], capture_output=True, check=False)
        raise


def ensure_base() -> BaseImage:
    """The local base image, from buildah's storage, the cached archive, or debootstrap."""
    check_tools()
    started = time.monotonic()
    key = recipe_key()
    name = f"{BASE_REPOSITORY}:{SUITE}-{key}"
    archive = base_dir() / f"{SUITE}-{key}.oci.tar"
    if image_exists(name):
        return BaseImage(name, "storage", time.monotonic() - started)
    with file_lock(base_dir() / ".lock"):
        if image_exists(name):
            return BaseImage(name, "storage", time.monotonic() - started)
        if archive.is_file():
            image_id = _run(["buildah", "pull", "--quiet", f"oci-archive:{archive}"])
            _run(["buildah", "tag", image_id.splitlines()[-1], name])
            return BaseImage(name, "archive", time.monotonic() - started)
        with tempfile.TemporaryDirectory(prefix="base-", dir=base_dir()) as scratch:
            work = Path(scratch)
            _debootstrap(work / "rootfs")
            _commit_rootfs(work / "rootfs", name, work)
            partial = work / "base.oci.tar"
            _run(["buildah", "push", "--quiet", name, f"oci-archive:{partial}:{name}"])
            partial.rename(archive)
        return BaseImage(name, "debootstrap", time.monotonic() - started)


def pip_build_config() -> str:
    """A pip.conf for the build from this host's pip settings (config files and PIP_* variables).
    The certificate bundle is the image's own, which holds the host's certificates."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    settings: dict[str, str] = {}
    for line in listing.splitlines():
        key, _, value = line.partition("=")
        option = key.rpartition(".")[2]
        if option in PIP_KEYS_PASSED and value:
            settings[option] = value.strip().strip("'\"")
    lines = ["[global]", f"cert = {IMAGE_CA_BUNDLE}"]
    lines += [f"{option} = {value}" for option, value in sorted(settings.items())]
    return "\n".join(lines) + "\n"


def project_version() -> str:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return str(pyproject["project"]["version"])


def git_revision() -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def image_size(name: str) -> str:
    listing = json.loads(_run(["buildah", "images", "--json", name]))
    return str(listing[0]["size"]) if listing else "?"


def _first_layer(image_id: str) -> str | None:
    inspected = json.loads(_run(["buildah", "inspect", "--type", "image", image_id]))
    layers = inspected.get("OCIv1", {}).get("rootfs", {}).get("diff_ids") or []
    return str(layers[0]) if layers else None


def prune_old_builds(base: str, build_output: str) -> int:
    """Remove untagged images left by earlier builds of this Dockerfile (those on our base that
    the build just made did not use), so each source change does not keep ~80 MB for good.
    Other untagged images, on other bases, are not ours and stay."""
    used = {match.group(1) for match in _BUILD_STEP.finditer(build_output)}
    base_layer = _first_layer(base)
    removed = 0
    for image_id in _run(
        ["buildah", "images", "-q", "--no-trunc", "--filter", "dangling=true"]
    ).split():
        image_id = image_id.removeprefix("sha256:")
        if any(image_id.startswith(step) for step in used):
            continue
        if base_layer is None or _first_layer(image_id) != base_layer:
            continue
        done = subprocess.run(["buildah", "rmi", image_id], capture_output=True, check=False)
        removed += done.returncode == 0
    return removed


NATIVE_DIR = REPO_ROOT / "native"
NATIVE_WHEELS = NATIVE_DIR / "dist"


def build_native_wheel() -> Path:
    """The native core's wheel in `native/dist/` (cargo reuses native/target: seconds when
    nothing changed)."""
    shutil.rmtree(NATIVE_WHEELS, ignore_errors=True)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(NATIVE_WHEELS),
            str(NATIVE_DIR),
        ]
    )
    wheels = sorted(NATIVE_WHEELS.glob("profile_sync_core-*.whl"))
    if len(wheels) != 1:
        raise DevenvError(f"expected one native wheel in {NATIVE_WHEELS}, found {len(wheels)}")
    return wheels[0]


def build_image(name: str = IMAGE, *, quiet: bool = True) -> BuiltImage:
    """`buildah bud` of the Dockerfile on the local base; layers are reused between builds."""
    base = ensure_base()
    started = time.monotonic()
    build_native_wheel()
    with tempfile.TemporaryDirectory(prefix="profile-sync-image-") as scratch:
        pip_conf = Path(scratch) / "pip.conf"
        pip_conf.write_text(pip_build_config())
        pip_conf.chmod(0o600)
        output = _run(
            [
                "buildah",
                "bud",
                "--isolation",
                "chroot",
                "--layers",
                "--pull-never",
                "--build-arg",
                f"BASE_IMAGE={base.name}",
                "--build-arg",
                f"VERSION={project_version()}",
                "--build-arg",
                f"REVISION={git_revision()}",
                "--secret",
                f"id=pip.conf,src={pip_conf}",
                "--tag",
                name,
                "--file",
                str(REPO_ROOT / "Dockerfile"),
                str(REPO_ROOT),
            ],
            echo=not quiet,
        )
    seconds = time.monotonic() - started
    prune_old_builds(base.name, output)
    return BuiltImage(name, base, seconds, image_size(name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the image with buildah, no daemon")
    parser.add_argument("command", choices=["base", "native-wheel", "build"])
    parser.add_argument("--tag", default=IMAGE)
    args = parser.parse_args(argv)
    try:
        if args.command == "base":
            base = ensure_base()
            print(f"{base.name} ({base.source}, {base.seconds:.1f} s)")
            return 0
        if args.command == "native-wheel":
            print(build_native_wheel())
            return 0
        built = build_image(args.tag, quiet=False)
    except DevenvError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(
        f"image {built.name}: {built.size}; base {built.base.name} "
        f"({built.base.source}, {built.base.seconds:.1f} s); build {built.build_seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
