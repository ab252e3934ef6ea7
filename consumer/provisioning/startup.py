"""Checks `run` makes before it consumes anything.

Kafka: both topics exist, the state topic is compacted with the source topic's partition count,
and the replay topic has that count too (exit 2 naming the variable): one metadata request and
one configuration read in all. AEP
(`resolve_aep_target`): unset ids are looked up by the configured names, then one read of the
schema checks that it has exactly the field groups the mapper emits; any AEP-side problem
refuses to start with exit 3 ("AEP configuration fault", docs/DESIGN.md §3).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from confluent_kafka import KafkaException

from consumer.aep.platform_client import FlowInfo, PlatformClient
from consumer.aep.platform_http import PlatformError, PlatformUnavailable
from consumer.aep.platform_session import platform_session
from consumer.aep.protocol import AepConfigurationFault
from consumer.config import exit_codes
from consumer.config.mapper_options import options_from_settings
from consumer.config.settings import (
    AepAuthSettings,
    AepResourceSettings,
    KafkaSettings,
    XdmSettings,
    variable,
)
from consumer.provisioning.schema_fit import field_group_fit, group_title
from consumer.provisioning.topics import (
    TopicAdmin,
    TopicsUnavailable,
    describe,
    replay_topic_problem,
    state_topic_problem,
)
from schemas.xdm import field_group_ids

_T = TypeVar("_T")


class StartupError(Exception):
    """A start-up check failed; `exit_code` says how the process ends."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ClusterMetadataSource(Protocol):
    def list_topics(self, topic: str | None = None, timeout: float = -1) -> object: ...


def check_topics(
    client: ClusterMetadataSource, settings: KafkaSettings, timeout_s: float
) -> object:
    """Both topics exist; auto-creation stays off (the metadata request names no topic).
    Returns the cluster metadata, for `check_service_topics`."""
    try:
        metadata = client.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        raise StartupError(
            f"cannot reach the Kafka cluster at {variable('kafka_bootstrap_servers')} "
            f"({exc.args[0]})",
            1,
        ) from None
    topics = getattr(metadata, "topics", {})
    for field, name in (("topic", settings.topic), ("dlq_topic", settings.dlq_topic)):
        found = topics.get(name)
        if found is None or getattr(found, "error", None) is not None:
            raise StartupError(f"{variable(field)}: topic {name!r} does not exist", 2)
    return metadata


def check_service_topics(
    admin: TopicAdmin, settings: KafkaSettings, timeout_s: float, metadata: object = None
) -> int | None:
    """The state topic is compacted with the source topic's partition count (docs/DESIGN.md
    §11) and the replay topic has that count (§12): exit 2 naming the one that is not, 1 when
    the cluster does not answer. Returns the dead-letter topic's `max.message.bytes` (None when
    unreadable). One configuration read, and no metadata request when `metadata` (what
    `check_topics` returned) is given."""
    try:
        found = describe(
            admin,
            [settings.topic, settings.state_topic, settings.replay_topic, settings.dlq_topic],
            timeout_s,
            policies=[settings.state_topic],
            limits=[settings.dlq_topic],
            metadata=metadata,
        )
    except TopicsUnavailable as exc:
        raise StartupError(str(exc), exit_codes.ERROR) from None
    source = found[settings.topic]
    for problem in (
        state_topic_problem(settings, found[settings.state_topic], source),
        replay_topic_problem(settings, found[settings.replay_topic], source),
    ):
        if problem is not None:
            raise StartupError(problem, exit_codes.USAGE)
    dead_letters = found[settings.dlq_topic]
    return None if dead_letters is None else dead_letters.max_message_bytes


@dataclass(frozen=True, slots=True)
class AepTarget:
    inlet_url: str
    schema_id: str
    dataset_id: str
    flow_id: str | None
    tenant_id: str | None
    ready_at: datetime | None = None  # `run` sends nothing before it (docs/DESIGN.md §4)


# ---- AEP: look the target up by name, check the schema -----------------------------------

SessionFactory = Callable[[AepAuthSettings], AbstractContextManager[PlatformClient]]


def _missing(what: str, name: str, setting: str) -> StartupError:
    # A resource absent from AEP is AEP configuration, not a wrong local value: exit 3.
    return StartupError(
        f"AEP configuration fault: no {what} named {name!r} in the sandbox ({variable(setting)}); "
        "run `profile-sync init` first",
        exit_codes.AEP_CONFIG_FAULT,
    )


def _one(found: Sequence[_T], what: str, name: str, setting: str) -> _T:
    if not found:
        raise _missing(what, name, setting)
    if len(found) > 1:
        raise StartupError(
            f"AEP configuration fault: {len(found)} {what}s are named {name!r}; set "
            f"{variable(setting)} to a unique name or set the id",
            exit_codes.AEP_CONFIG_FAULT,
        )
    return found[0]


def _ready_at(flow: FlowInfo, warmup_s: float) -> datetime | None:
    if flow.created_ms is None:
        return None
    return datetime.fromtimestamp(math.ceil(flow.created_ms / 1000 + warmup_s), tz=UTC)


def _lookup(
    client: PlatformClient, resources: AepResourceSettings, tenant_needed: bool
) -> AepTarget:
    """Ids from the settings, the rest found by the configured names (docs/DESIGN.md §4).

    When the inlet, schema and dataset ids are all set (the output of `init --json`), nothing
    is looked up and the flow id stays optional; otherwise every unset id, the flow's included,
    is found by its name.
    """
    if (
        resources.aep_inlet_url is not None
        and resources.aep_schema_id is not None
        and resources.aep_dataset_id is not None
        and (resources.aep_tenant_id is not None or not tenant_needed)
    ):
        return AepTarget(
            inlet_url=str(resources.aep_inlet_url),
            schema_id=resources.aep_schema_id,
            dataset_id=resources.aep_dataset_id,
            flow_id=resources.aep_flow_id,
            tenant_id=resources.aep_tenant_id,
            ready_at=resources.aep_ready_at,
        )
    tenant_id = resources.aep_tenant_id
    if tenant_id is None and tenant_needed:
        tenant_id = client.tenant_id()
    schema_id = resources.aep_schema_id
    if schema_id is None:
        title = resources.aep_schema_title
        schema_id = _one(client.find_schemas(title), "schema", title, "aep_schema_title")[0]
    dataset_id = resources.aep_dataset_id
    if dataset_id is None:
        name = resources.aep_dataset_name
        dataset_id = _one(client.find_datasets(name), "dataset", name, "aep_dataset_name").id
    inlet_url = str(resources.aep_inlet_url) if resources.aep_inlet_url else None
    if inlet_url is None:
        name = resources.aep_connection_name
        connection = _one(client.find_connections(name), "connection", name, "aep_connection_name")
        if connection.inlet_url is None:
            raise StartupError(
                f"AEP configuration fault: the connection {name!r} has no inlet URL; run "
                "`profile-sync init`",
                exit_codes.AEP_CONFIG_FAULT,
            )
        inlet_url = connection.inlet_url
    flow_id, ready_at = resources.aep_flow_id, resources.aep_ready_at
    if flow_id is None:
        name = resources.aep_flow_name
        flow = _one(client.find_flows(name), "dataflow", name, "aep_flow_name")
        flow_id = flow.id
        if ready_at is None:
            ready_at = _ready_at(flow, resources.aep_dataflow_warmup_s)
    return AepTarget(
        inlet_url=inlet_url,
        schema_id=schema_id,
        dataset_id=dataset_id,
        flow_id=flow_id,
        tenant_id=tenant_id,
        ready_at=ready_at,
    )


def check_schema(client: PlatformClient, target: AepTarget, wanted: Sequence[str]) -> None:
    """One read of the schema: it must hold exactly the field groups the mapper emits."""
    schema = client.get_schema(target.schema_id)
    if schema is None:
        raise StartupError(
            f"AEP configuration fault: the schema {target.schema_id} does not exist "
            f"({variable('aep_schema_id')} / {variable('aep_schema_title')})",
            exit_codes.AEP_CONFIG_FAULT,
        )
    fit = field_group_fit(schema, wanted, tenant_id=target.tenant_id)
    if fit.exact:
        return
    problems = []
    if not fit.class_ok:
        problems.append(f"its class is {schema.class_id}, not XDM Individual Profile")
    if fit.missing:
        names = ", ".join(repr(group_title(g)) for g in fit.missing)
        problems.append(f"it lacks the field group(s) {names} that the mapper emits")
    if fit.extra:
        names = ", ".join(repr(group_title(g)) for g in fit.extra)
        problems.append(f"it has field group(s) {names} that the mapper does not emit")
    raise StartupError(
        f"AEP configuration fault: the schema {schema.title!r} does not match the records: "
        f"{'; '.join(problems)}. Run `profile-sync init` (it adds missing groups), or align "
        f"{variable('xdm_audit_field_group')} / {variable('xdm_tenant_fields')} with the schema",
        exit_codes.AEP_CONFIG_FAULT,
    )


def resolve_aep_target(
    auth: AepAuthSettings,
    resources: AepResourceSettings,
    xdm: XdmSettings,
    *,
    session: SessionFactory = platform_session,
) -> AepTarget:
    """The inlet and resources `run` writes to, checked against AEP before consuming.

    Unset ids are looked up by the configured names; then one read of the schema checks
    that it has exactly the field groups the mapper will emit. Every AEP-side problem (a
    missing resource, a schema that does not fit, refused credentials) is exit 3, "AEP
    configuration fault" (docs/DESIGN.md §3): the local settings are valid, AEP is not set
    up for them; AEP unreachable after retries is exit 1.
    """
    try:
        with session(auth) as client:
            target = _lookup(client, resources, xdm.xdm_tenant_fields)
            wanted = field_group_ids(options_from_settings(xdm, target.tenant_id).xdm)
            check_schema(client, target, wanted)
            return target
    except (AepConfigurationFault, PlatformError) as exc:  # PlatformAccessError included
        raise StartupError(f"AEP configuration fault: {exc}", exit_codes.AEP_CONFIG_FAULT) from None
    except PlatformUnavailable as exc:
        raise StartupError(str(exc), exit_codes.ERROR) from None
