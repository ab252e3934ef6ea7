"""The service's own Kafka topics: what they must be, what the cluster holds, what to create.

The dead-letter, state (changelog) and replay topics belong to the service (docs/DESIGN.md §11,
§12): `init` creates the missing ones with the source topic's partition count, and `run` checks
the state topic before consuming. The source topic belongs to the event backbone: it is read,
never created or changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from confluent_kafka import KafkaException

# The package re-exports these without `__all__`; their public home is confluent_kafka.admin.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    ConfigResource,
    NewTopic,
    ResourceType,
)

from consumer.config.settings import KafkaSettings, variable

COMPACT: Final = "compact"
# Marks must outlive any retention: a compacted topic keeps each customer's latest forever.
STATE_TOPIC_CONFIG: Final[Mapping[str, str]] = {"cleanup.policy": COMPACT}


class TopicsUnavailable(Exception):
    """The cluster did not answer (unreachable, or a request failed)."""


class TopicAdmin(Protocol):
    """The part of `confluent_kafka.admin.AdminClient` used here."""

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any: ...
    def describe_configs(self, resources: list[ConfigResource], **kwargs: Any) -> Any: ...
    def create_topics(self, new_topics: list[NewTopic], **kwargs: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class TopicInfo:
    partitions: int
    cleanup_policy: str | None = None  # read only for topics that need one
    max_message_bytes: int | None = None  # read only where asked, None when unreadable

    @property
    def compacted(self) -> bool:
        return self.cleanup_policy is not None and COMPACT in self.cleanup_policy.split(",")


@dataclass(frozen=True, slots=True)
class OwnTopic:
    setting: str  # the settings field naming it
    name: str
    config: Mapping[str, str] = field(default_factory=dict)

    @property
    def compacted(self) -> bool:
        return self.config.get("cleanup.policy") == COMPACT


def own_topics(settings: KafkaSettings) -> list[OwnTopic]:
    return [
        OwnTopic("dlq_topic", settings.dlq_topic),
        OwnTopic("state_topic", settings.state_topic, STATE_TOPIC_CONFIG),
        OwnTopic("replay_topic", settings.replay_topic),
    ]


def describe(
    admin: TopicAdmin,
    names: Sequence[str],
    timeout_s: float,
    *,
    policies: Sequence[str] = (),
    limits: Sequence[str] = (),
    metadata: Any = None,
) -> dict[str, TopicInfo | None]:
    """Partition counts of `names` (None: absent), the cleanup policy of `policies` and the
    `max.message.bytes` of `limits`, in one metadata request (none when `metadata`, a cluster
    metadata answer, is given) and one configuration read. An unreadable policy is an error; an
    unreadable limit is None (the caller keeps its own bound)."""
    if metadata is None:
        try:
            # Naming no topic: a metadata request for one would create it where auto-creation
            # is on.
            metadata = admin.list_topics(timeout=timeout_s)
        except KafkaException as exc:
            raise TopicsUnavailable(
                f"cannot reach the Kafka cluster at {variable('kafka_bootstrap_servers')} "
                f"({exc.args[0]})"
            ) from None
    found: dict[str, TopicInfo | None] = {}
    for name in names:
        topic = metadata.topics.get(name)
        if topic is None or topic.error is not None:
            found[name] = None
        else:
            found[name] = TopicInfo(len(topic.partitions))
    wanted = list(dict.fromkeys(n for n in (*policies, *limits) if found.get(n) is not None))
    if not wanted:
        return found
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in wanted]
    futures = admin.describe_configs(resources, request_timeout=timeout_s)
    for resource, future in futures.items():
        name = resource.name
        try:
            entries = future.result(timeout=timeout_s)
        except KafkaException as exc:
            if name in policies:
                raise TopicsUnavailable(
                    f"cannot read the configuration of topic {name!r} ({exc.args[0]})"
                ) from None
            continue
        info = found[name]
        assert info is not None
        policy = entries.get("cleanup.policy") if name in policies else None
        limit = entries.get("max.message.bytes") if name in limits else None
        found[name] = TopicInfo(
            info.partitions,
            None if policy is None else str(policy.value),
            int(limit.value) if limit is not None and str(limit.value).isdigit() else None,
        )
    return found


def state_topic_problem(
    settings: KafkaSettings, state: TopicInfo | None, source: TopicInfo | None
) -> str | None:
    """Why the state topic cannot back the guard (docs/DESIGN.md §11), or None."""
    name = settings.state_topic
    where = variable("state_topic")
    if state is None:
        return f"{where}: topic {name!r} does not exist (`profile-sync init` creates it)"
    if not state.compacted:
        return (
            f"{where}: topic {name!r} is not compacted (cleanup.policy={state.cleanup_policy}; "
            f"it must contain {COMPACT!r})"
        )
    if source is not None and state.partitions != source.partitions:
        return (
            f"{where}: topic {name!r} has {state.partitions} partition(s), the source topic "
            f"{settings.topic!r} has {source.partitions}; they must be equal"
        )
    return None


def replay_topic_problem(
    settings: KafkaSettings, replay: TopicInfo | None, source: TopicInfo | None
) -> str | None:
    """Why `run` cannot read the replay topic beside the source (docs/DESIGN.md §12), or None:
    replay partition p is read with source partition p, so the counts must be equal."""
    name = settings.replay_topic
    where = variable("replay_topic")
    if replay is None:
        return f"{where}: topic {name!r} does not exist (`profile-sync init` creates it)"
    if source is not None and replay.partitions != source.partitions:
        return (
            f"{where}: topic {name!r} has {replay.partitions} partition(s), the source topic "
            f"{settings.topic!r} has {source.partitions}; they must be equal"
        )
    return None


@dataclass(frozen=True, slots=True)
class TopicPlan:
    partitions: int  # the source topic's
    create: list[OwnTopic]
    refusals: list[str]


def plan_topics(admin: TopicAdmin, settings: KafkaSettings, timeout_s: float) -> TopicPlan:
    """The own topics to create. Refused: a missing source topic (init never creates it), and a
    state topic that exists but cannot serve (init does not change existing topics)."""
    mine = own_topics(settings)
    found = describe(
        admin,
        [settings.topic, *(t.name for t in mine)],
        timeout_s,
        policies=[t.name for t in mine if t.compacted],
    )
    source = found[settings.topic]
    if source is None:
        return TopicPlan(
            0,
            [],
            [
                f"{variable('topic')}: the source topic {settings.topic!r} does not exist; init "
                "never creates it (it belongs to the event backbone)"
            ],
        )
    refusals = []
    for topic in mine:
        info = found[topic.name]
        if info is not None and topic.setting == "state_topic":
            problem = state_topic_problem(settings, info, source)
            if problem is not None:
                refusals.append(problem)
    create = [t for t in mine if found[t.name] is None]
    return TopicPlan(source.partitions, create, refusals)


def create_topics(
    admin: TopicAdmin, plan: TopicPlan, timeout_s: float, replication_factor: int = -1
) -> None:
    """Create the planned topics (the broker's default replication unless told otherwise)."""
    if not plan.create:
        return
    new = [
        NewTopic(
            topic.name,
            num_partitions=plan.partitions,
            replication_factor=replication_factor,
            config=dict(topic.config),
        )
        for topic in plan.create
    ]
    futures = admin.create_topics(new, operation_timeout=timeout_s, request_timeout=timeout_s)
    for name, future in futures.items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            raise TopicsUnavailable(f"creating topic {name!r} failed ({exc.args[0]})") from None
