"""devenv/image.py without building anything: what the cached base is keyed by, and the pip
settings the build receives."""

from __future__ import annotations

from pathlib import Path

import pytest

from devenv import image


@pytest.fixture
def host_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "ca-certificates"
    directory.mkdir()
    monkeypatch.setattr(image, "HOST_CA_DIR", directory)
    monkeypatch.delenv(image.MIRROR_ENV, raising=False)
    return directory


def test_the_base_key_follows_the_host_certificates(host_ca: Path) -> None:
    empty = image.recipe_key()
    (host_ca / "proxy.crt").write_text("-----BEGIN CERTIFICATE-----\nA\n")
    one = image.recipe_key()
    (host_ca / "proxy.crt").write_text("-----BEGIN CERTIFICATE-----\nB\n")
    changed = image.recipe_key()
    (host_ca / "notes.txt").write_text("not a certificate")
    assert len({empty, one, changed}) == 3
    assert image.recipe_key() == changed
    assert image.host_certificates() == [host_ca / "proxy.crt"]


def test_the_base_key_follows_the_mirror(host_ca: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = image.recipe_key()
    monkeypatch.setenv(image.MIRROR_ENV, "http://mirror.example/debian")
    assert image.mirror() == "http://mirror.example/debian"
    assert image.recipe_key() != default


def test_pip_settings_reach_the_build_with_the_image_ca_bundle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.mirror.example/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "/a/host/only/path")
    monkeypatch.setenv("PIP_CERT", "/some/host/bundle.pem")
    conf = image.pip_build_config().splitlines()
    assert conf[0] == "[global]"
    assert f"cert = {image.IMAGE_CA_BUNDLE}" in conf
    assert "index-url = https://pypi.mirror.example/simple" in conf
    # Host paths mean nothing inside the build.
    assert not [line for line in conf if "/a/host/only/path" in line or "/some/host" in line]


def test_the_steps_a_build_used_are_read_from_its_output() -> None:
    output = (
        "[1/2] STEP 1/8: FROM localhost/base AS build\n"
        "[1/2] STEP 2/8: ENV A=1\n"
        "--> Using cache 4d68c192ee6d7eda34dd4e2ed2a55fd1d88bdaad4cd63b8583d92159d4c9463b\n"
        "--> 4d68c192ee6\n"
        '[2/2] STEP 9/9: CMD ["run"]\n'
        "--> d8242bcec0e\n"
        "Successfully tagged localhost/commerce-profile-sync:dev\n"
    )
    steps = {match.group(1) for match in image._BUILD_STEP.finditer(output)}
    assert steps == {
        "4d68c192ee6d7eda34dd4e2ed2a55fd1d88bdaad4cd63b8583d92159d4c9463b",
        "4d68c192ee6",
        "d8242bcec0e",
    }
