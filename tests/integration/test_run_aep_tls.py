"""`run` over HTTPS to the emulator: PROFILE_SYNC_AEP_CA_BUNDLE trusted, verification never off.

The emulator serves a certificate from a throwaway CA. With that CA as the bundle, `run`
delivers; with another CA, or with none (the public CAs), it stops with exit 3 naming the
setting, before consuming anything.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from devenv.kafka_local import Broker
from devenv.tls import Authority, CertificateFiles
from tests.integration.run_support import (
    AepTarget,
    aep_target,
    committed_offsets,
    consumer_env,
    customer_of_entity,
    end_offsets,
    produce_sample,
)
from tests.support.kafka import TopicFactory
from tests.support.leak_sweep import record_output

PROFILE_SYNC = str(Path(sys.executable).with_name("profile-sync"))


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Authority, CertificateFiles]:
    authority = Authority(tmp_path_factory.mktemp("aep-tls"))
    return authority, authority.issue("emulator", hosts=["127.0.0.1"])


@pytest.fixture
def https_target(tls: tuple[Authority, CertificateFiles]) -> Iterator[AepTarget]:
    _authority, server = tls
    with aep_target(tls_cert=str(server.cert), tls_key=str(server.key)) as target:
        assert target.url.startswith("https://")
        yield target


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PROFILE_SYNC_")}
    done = subprocess.run(
        [PROFILE_SYNC, "run", "--exit-when-idle", "1"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    record_output("profile-sync run (AEP TLS tests)", done.stdout, done.stderr)
    return done


def test_run_delivers_over_https_trusting_the_ca_bundle(
    kafka_broker: Broker,
    make_topics: TopicFactory,
    https_target: AepTarget,
    tls: tuple[Authority, CertificateFiles],
) -> None:
    authority, _server = tls
    topics = make_topics(partitions=2)
    produced = produce_sample(kafka_broker.bootstrap, topics.name, 120, seed=31)
    env = consumer_env(kafka_broker.bootstrap, topics, https_target)
    env["PROFILE_SYNC_AEP_CA_BUNDLE"] = str(authority.cert_path)
    done = _run(env)
    assert done.returncode == 0, done.stderr[-3000:]
    trusting = ssl.create_default_context(cafile=str(authority.cert_path))
    response = httpx.get(f"{https_target.url}/_emulator/records", verify=trusting, timeout=60)
    records = [orjson.loads(line) for line in response.text.splitlines() if line.strip()]
    assert {customer_of_entity(r["entity"]) for r in records} == {
        event.key for event in produced.events.values()
    }
    assert committed_offsets(
        kafka_broker.bootstrap, env["PROFILE_SYNC_GROUP_ID"], topics.name, 2
    ) == end_offsets(kafka_broker.bootstrap, topics.name, 2)


@pytest.mark.parametrize("bundle", ["other CA", "public CAs"])
def test_an_untrusted_certificate_stops_run_with_exit_3(
    kafka_broker: Broker,
    make_topics: TopicFactory,
    https_target: AepTarget,
    tmp_path: Path,
    bundle: str,
) -> None:
    topics = make_topics()
    env = consumer_env(kafka_broker.bootstrap, topics, https_target)
    if bundle == "other CA":
        env["PROFILE_SYNC_AEP_CA_BUNDLE"] = str(Authority(tmp_path / "other").cert_path)
    done = _run(env)
    assert done.returncode == 3, done.stderr[-3000:]
    assert "AEP configuration fault" in done.stderr
    assert "TLS certificate of 127.0.0.1:" in done.stderr
    assert "could not be verified" in done.stderr
    assert "PROFILE_SYNC_AEP_CA_BUNDLE" in done.stderr
    assert env["PROFILE_SYNC_AEP_CLIENT_SECRET"] not in done.stdout + done.stderr
    # nothing was consumed
    assert committed_offsets(
        kafka_broker.bootstrap, env["PROFILE_SYNC_GROUP_ID"], topics.name, 1
    ) == {0: -1001}


def test_a_ca_bundle_that_is_no_certificate_exits_2(
    kafka_broker: Broker, make_topics: TopicFactory, https_target: AepTarget, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("not a certificate\n")
    env = consumer_env(kafka_broker.bootstrap, make_topics(), https_target)
    env["PROFILE_SYNC_AEP_CA_BUNDLE"] = str(bundle)
    done = _run(env)
    assert done.returncode == 2, done.stderr[-3000:]
    assert f"PROFILE_SYNC_AEP_CA_BUNDLE: {bundle} holds no PEM CA certificate" in done.stderr
