"""`run`'s AEP start-up check: a schema without every
field group the mapper emits stops `run` with exit 3 before anything is consumed."""

from __future__ import annotations

import pytest

from consumer.aep.platform_session import platform_session
from consumer.commands.run import run_consumer
from consumer.config.settings import AepAuthSettings
from devenv.kafka_local import Broker
from schemas.xdm import PERSONAL_CONTACT_DETAILS_ID, XdmOptions, field_group_ids
from tests.aep_emulator.emulator_helpers import ORG
from tests.integration.run_support import CLIENT_ID, CLIENT_SECRET, aep_target, consumer_env
from tests.support.kafka import TopicFactory


def test_a_schema_missing_a_field_group_refuses_to_start(
    kafka_broker: Broker,
    make_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topics = make_topics(partitions=1)
    with aep_target() as target:
        auth = AepAuthSettings(
            aep_ims_url=target.url,
            aep_platform_url=target.url,
            aep_client_id=CLIENT_ID,
            aep_client_secret=CLIENT_SECRET,
            aep_org_id=ORG,
        )
        refs = [g for g in field_group_ids(XdmOptions()) if g != PERSONAL_CONTACT_DETAILS_ID]
        with platform_session(auth) as client:
            partial = client.create_schema("Partial profile", "", refs, union=True)
        env = consumer_env(
            kafka_broker.bootstrap, topics, target, PROFILE_SYNC_AEP_SCHEMA_ID=partial.id
        )
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert run_consumer(None, exit_when_idle=1.0) == 3
        err = capsys.readouterr().err
        assert "'Personal Contact Details'" in err
        assert "AEP configuration fault" in err
        assert target.stats()["messages"]["received"] == 0
