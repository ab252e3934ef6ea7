"""`run`'s checks of the state and replay topics against the real broker: missing, not compacted
(state) or with the wrong partition count exits 2 naming the topic and its variable; the
dead-letter topic's limit is read in the same configuration request."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from consumer.config.settings import KafkaSettings
from consumer.provisioning.startup import StartupError, check_service_topics, check_topics
from devenv.kafka_local import Broker, create_topics
from tests.support.kafka import TopicFactory


def _check(broker: Broker, **settings: str) -> int | None:
    kafka = KafkaSettings(kafka_bootstrap_servers=broker.bootstrap, **settings)
    return check_service_topics(AdminClient({"bootstrap.servers": broker.bootstrap}), kafka, 10)


def _refused(broker: Broker, **settings: str) -> str:
    with pytest.raises(StartupError) as refused:
        _check(broker, **settings)
    assert refused.value.exit_code == 2
    assert "PROFILE_SYNC_STATE_TOPIC" in str(refused.value)
    return str(refused.value)


def test_a_compacted_state_topic_with_the_sources_partitions_passes(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=3, dlq=False, state=True)
    assert topics.state is not None
    assert _check(kafka_broker, topic=topics.name, state_topic=topics.state) is None  # no dlq


def test_a_missing_state_topic_exits_2_naming_it(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=2, dlq=False, state=False)
    message = _refused(kafka_broker, topic=topics.name, group_id=topics.name)
    assert f"{topics.name}.state" in message  # the default, {group_id}.state
    assert "does not exist" in message


def test_a_state_topic_with_other_partitions_exits_2_naming_it(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=3, dlq=False, state=True, state_partitions=2)
    assert topics.state is not None
    message = _refused(kafka_broker, topic=topics.name, state_topic=topics.state)
    assert repr(topics.state) in message
    assert "2 partition(s)" in message
    assert "has 3" in message


def test_a_state_topic_without_compaction_exits_2_naming_it(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=2, dlq=False, state=True, state_config={})
    assert topics.state is not None
    message = _refused(kafka_broker, topic=topics.name, state_topic=topics.state)
    assert repr(topics.state) in message
    assert "not compacted" in message


def test_compact_and_delete_together_is_compacted(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=1, dlq=False, state=False)
    state = f"{topics.name}.both"
    create_topics(kafka_broker.bootstrap, {state: 1}, {"cleanup.policy": "compact,delete"})
    _check(kafka_broker, topic=topics.name, state_topic=state)


def test_an_unreachable_cluster_exits_1() -> None:
    kafka = KafkaSettings(kafka_bootstrap_servers="127.0.0.1:1")
    admin = AdminClient({"bootstrap.servers": "127.0.0.1:1"})
    with pytest.raises(StartupError) as refused:
        check_service_topics(admin, kafka, 1)
    assert refused.value.exit_code == 1
    assert "PROFILE_SYNC_KAFKA_BOOTSTRAP_SERVERS" in str(refused.value)


# ---- the replay topic (docs/DESIGN.md §12) ---------------------------------------------------


def _replay_refused(broker: Broker, topic: str, **settings: str) -> str:
    kafka = KafkaSettings(
        kafka_bootstrap_servers=broker.bootstrap,
        topic=topic,
        state_topic=f"{topic}.state",
        **settings,
    )
    with pytest.raises(StartupError) as refused:
        check_service_topics(AdminClient({"bootstrap.servers": broker.bootstrap}), kafka, 10)
    assert refused.value.exit_code == 2
    assert "PROFILE_SYNC_REPLAY_TOPIC" in str(refused.value)
    return str(refused.value)


def test_a_replay_topic_with_the_sources_partitions_passes(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=3, dlq=False, state=True)
    kafka = KafkaSettings(
        kafka_bootstrap_servers=kafka_broker.bootstrap,
        topic=topics.name,
        state_topic=f"{topics.name}.state",
    )
    assert kafka.replay_topic == topics.replay
    check_service_topics(AdminClient({"bootstrap.servers": kafka_broker.bootstrap}), kafka, 10)


def test_a_missing_or_differently_partitioned_replay_topic_exits_2_naming_it(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=3, dlq=False, state=True, replay=False)
    missing = _replay_refused(kafka_broker, topics.name)
    assert f"{topics.name}.replay" in missing  # the default, {topic}.replay
    assert "does not exist" in missing
    other = f"{topics.name}.other-replay"
    create_topics(kafka_broker.bootstrap, {other: 2})
    message = _replay_refused(kafka_broker, topics.name, replay_topic=other)
    assert repr(other) in message
    assert "2 partition(s)" in message
    assert "has 3" in message


# ---- one round of requests -------------------------------------------------------------------


class CountingAdmin:
    """The real admin client, counting the requests the checks make."""

    def __init__(self, bootstrap: str) -> None:
        self._admin = AdminClient({"bootstrap.servers": bootstrap})
        self.metadata_requests = 0
        self.config_requests = 0

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any:
        self.metadata_requests += 1
        return self._admin.list_topics(topic, timeout=timeout)

    def describe_configs(self, resources: list[Any], **kwargs: Any) -> Any:
        self.config_requests += 1
        return self._admin.describe_configs(resources, **kwargs)

    def create_topics(self, new_topics: list[Any], **kwargs: Any) -> Any:
        raise AssertionError("the start-up checks create nothing")


def test_the_checks_reuse_the_consumers_metadata_and_read_every_config_at_once(
    kafka_broker: Broker, make_topics: TopicFactory
) -> None:
    topics = make_topics(partitions=2, dlq=True, state=True, config={"max.message.bytes": "4096"})
    assert topics.dlq is not None
    assert topics.state is not None
    kafka = KafkaSettings(
        kafka_bootstrap_servers=kafka_broker.bootstrap,
        topic=topics.name,
        dlq_topic=topics.dlq,
        state_topic=topics.state,
    )
    admin = CountingAdmin(kafka_broker.bootstrap)
    metadata = check_topics(admin, kafka, 10)
    assert check_service_topics(admin, kafka, 10, metadata) == 4096
    assert (admin.metadata_requests, admin.config_requests) == (1, 1)
