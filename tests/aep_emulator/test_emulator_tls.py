"""The emulator serves HTTPS with a given certificate (`--tls-cert/--tls-key`)."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from aep_emulator.options import EmulatorOptions
from aep_emulator.server import build_parser, options_from_args, options_to_argv, running_emulator
from devenv.tls import Authority, CertificateFiles


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Authority, CertificateFiles]:
    authority = Authority(tmp_path_factory.mktemp("tls"))
    return authority, authority.issue("emulator", hosts=["127.0.0.1", "localhost"])


@pytest.mark.parametrize("subprocess", [False, True])
def test_serves_https_that_a_client_trusting_the_ca_verifies(
    tls: tuple[Authority, CertificateFiles], tmp_path: Path, subprocess: bool
) -> None:
    authority, server = tls
    options = EmulatorOptions(port=0, tls_cert=str(server.cert), tls_key=str(server.key))
    with running_emulator(options, subprocess=subprocess) as emulator:
        assert emulator.url.startswith("https://127.0.0.1:")
        trusting = ssl.create_default_context(cafile=str(authority.cert_path))
        assert httpx.get(f"{emulator.url}/_emulator/stats", verify=trusting).status_code == 200
        other = Authority(tmp_path / "other")
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(
                f"{emulator.url}/_emulator/stats",
                verify=ssl.create_default_context(cafile=str(other.cert_path)),
            )
        plain = emulator.url.replace("https://", "http://")
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{plain}/_emulator/stats", timeout=5)


def test_tls_options_survive_the_command_line(tls: tuple[Authority, CertificateFiles]) -> None:
    _authority, server = tls
    options = EmulatorOptions(port=0, tls_cert=str(server.cert), tls_key=str(server.key))
    parsed = options_from_args(build_parser().parse_args(options_to_argv(options)))
    assert (parsed.tls_cert, parsed.tls_key) == (str(server.cert), str(server.key))
    assert parsed.own_url.startswith("https://")


def test_cert_without_key_is_refused(tls: tuple[Authority, CertificateFiles]) -> None:
    _authority, server = tls
    with pytest.raises(SystemExit, match="--tls-cert and --tls-key go together"):
        options_from_args(build_parser().parse_args(["--tls-cert", str(server.cert)]))
