"""Read what AEP holds for our natural keys. GET requests only: `--plan` and the drift check
run on this snapshot before any write."""

from __future__ import annotations

from dataclasses import dataclass, field

from consumer.aep.platform_client import (
    ConnectionInfo,
    DatasetInfo,
    FieldGroupInfo,
    FlowInfo,
    NamespaceInfo,
    PlatformClient,
    SchemaInfo,
    SourceConnectionInfo,
    TargetConnectionInfo,
)
from consumer.provisioning.desired import NAMESPACE_CODE, Desired
from schemas.xdm import TENANT_FIELD_GROUP_TITLE


@dataclass(frozen=True, slots=True)
class Observed:
    schema: SchemaInfo | None
    # Field groups holding the schema's title (titles are unique across resource kinds).
    schema_title_groups: tuple[str, ...]
    tenant_group: FieldGroupInfo | None
    # Schemas holding the tenant field group's title.
    tenant_title_schemas: tuple[str, ...]
    other_groups: tuple[FieldGroupInfo, ...]  # every other tenant field group (type clashes)
    namespace: NamespaceInfo | None
    datasets: tuple[DatasetInfo, ...]
    connections: tuple[ConnectionInfo, ...]
    flows: tuple[FlowInfo, ...]
    # For the one flow with our name: its source and target connections, as found.
    flow_sources: tuple[SourceConnectionInfo | None, ...] = ()
    flow_targets: tuple[TargetConnectionInfo | None, ...] = ()
    sources: tuple[SourceConnectionInfo, ...] = field(default=())
    targets: tuple[TargetConnectionInfo, ...] = field(default=())


def observe(client: PlatformClient, want: Desired) -> Observed:
    schema = None
    found = client.find_schemas(want.schema_title)
    if found:
        schema = client.get_schema(found[0][0])
    schema_title_groups = tuple(i for i, _ in client.find_field_groups(want.schema_title))

    tenant_group = None
    tenant_title_schemas: tuple[str, ...] = ()
    others: tuple[FieldGroupInfo, ...] = ()
    if want.tenant_fields:
        groups = client.list_field_groups()
        ours = [g for g in groups if g.title == TENANT_FIELD_GROUP_TITLE]
        tenant_group = ours[0] if ours else None
        others = tuple(g for g in groups if g.title != TENANT_FIELD_GROUP_TITLE)
        tenant_title_schemas = tuple(i for i, _ in client.find_schemas(TENANT_FIELD_GROUP_TITLE))

    namespace = next((n for n in client.list_namespaces() if n.code == NAMESPACE_CODE), None)
    datasets = tuple(client.find_datasets(want.dataset_name))
    connections = tuple(client.find_connections(want.connection_name))
    flows = tuple(client.find_flows(want.flow_name))

    flow_sources: tuple[SourceConnectionInfo | None, ...] = ()
    flow_targets: tuple[TargetConnectionInfo | None, ...] = ()
    sources: tuple[SourceConnectionInfo, ...] = ()
    targets: tuple[TargetConnectionInfo, ...] = ()
    if len(flows) == 1:
        flow_sources = tuple(
            client.get_source_connection(i) for i in flows[0].source_connection_ids
        )
        flow_targets = tuple(
            client.get_target_connection(i) for i in flows[0].target_connection_ids
        )
    elif not flows:
        sources = tuple(client.find_source_connections(want.source_name))
        targets = tuple(client.find_target_connections(want.target_name))

    return Observed(
        schema=schema,
        schema_title_groups=schema_title_groups,
        tenant_group=tenant_group,
        tenant_title_schemas=tenant_title_schemas,
        other_groups=others,
        namespace=namespace,
        datasets=datasets,
        connections=connections,
        flows=flows,
        flow_sources=flow_sources,
        flow_targets=flow_targets,
        sources=sources,
        targets=targets,
    )
