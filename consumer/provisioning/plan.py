"""From what AEP holds to what init must do: a list of changes in dependency order, or the
reasons it must not touch anything (pure; no I/O).

Init only adds (docs/AEP.md §3.10, 3.11): it never removes or renames. What it cannot reach by
adding (another class, a field of another type, a title held by another kind of resource, a
resource bound to something else) is refused before any write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from consumer.aep.platform_client import (
    DATA_PREP_FLOW_SPEC,
    HTTP_API_CONNECTION_SPEC,
    FlowInfo,
)
from consumer.config.settings import variable
from consumer.provisioning.desired import NAMESPACE_CODE, PERSON_ID_TYPES, PROFILE_TAGS, Desired
from consumer.provisioning.field_types import field_types
from consumer.provisioning.observe import Observed
from consumer.provisioning.schema_fit import field_group_fit, group_title
from schemas.xdm import TENANT_FIELD_GROUP_TITLE

# Stands for "the tenant field group does not exist yet": no schema can hold it.
_NOT_CREATED: Final = ""


@dataclass(frozen=True, slots=True)
class Change:
    action: str  # create | add | enable
    kind: str
    key: str
    group_id: str | None = None  # for `add schema_field_group`: the wanted id

    def as_json(self) -> dict[str, str]:
        return {"action": self.action, "kind": self.kind, "key": self.key}

    def describe(self) -> str:
        return f"{self.action} {self.kind} {self.key!r}"


@dataclass(slots=True)
class Known:
    """Ids of the resources that exist (observed or created while applying)."""

    tenant_id: str
    tenant_group_id: str | None = None
    schema_id: str | None = None
    dataset_id: str | None = None
    connection_id: str | None = None
    inlet_url: str | None = None
    source_id: str | None = None
    target_id: str | None = None
    flow_id: str | None = None
    flow_created_ms: int | None = None


@dataclass(slots=True)
class Plan:
    known: Known
    changes: list[Change] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def make_plan(obs: Observed, want: Desired, tenant_body: Mapping[str, Any] | None) -> Plan:
    plan = Plan(Known(tenant_id=want.tenant_id))
    if want.tenant_fields:
        assert tenant_body is not None
        _tenant_group(plan, obs, tenant_body)
    _schema(plan, obs, want)
    _namespace(plan, obs)
    _dataset(plan, obs, want)
    _connection(plan, obs, want)
    _flow(plan, obs, want)
    return plan


def _tenant_group(plan: Plan, obs: Observed, body: Mapping[str, Any]) -> None:
    title = TENANT_FIELD_GROUP_TITLE
    for schema_id in obs.tenant_title_schemas:
        plan.refusals.append(
            f"the field group title {title!r} is taken by the schema {schema_id} (titles are "
            "unique across schemas and field groups); rename or delete that schema in AEP"
        )
    ours = field_types(body)
    for group in obs.other_groups:
        theirs = field_types(group.body)
        for path, kind in ours.items():
            if path in theirs and theirs[path] != kind:
                plan.refusals.append(
                    f"the field {path} is already defined as {theirs[path]} by the field group "
                    f"{group.title!r} and cannot be defined again as {kind} in this tenant"
                )
    if obs.tenant_group is None:
        plan.changes.append(Change("create", "field_group", title))
        return
    plan.known.tenant_group_id = obs.tenant_group.id
    theirs = field_types(obs.tenant_group.body)
    for path, kind in ours.items():
        if path not in theirs:
            plan.refusals.append(
                f"the field group {title!r} exists without the field {path}; init creates "
                "this field group whole and does not edit it: add the field in AEP"
            )
        elif theirs[path] != kind:
            plan.refusals.append(
                f"the field group {title!r} defines {path} as {theirs[path]}, not {kind}; a "
                "field's type cannot be changed"
            )


def _schema(plan: Plan, obs: Observed, want: Desired) -> None:
    title = want.schema_title
    title_var = variable("aep_schema_title")
    for group_id in obs.schema_title_groups:
        plan.refusals.append(
            f"the schema title {title!r} is taken by the field group {group_id} (titles are "
            f"unique across schemas and field groups); set {title_var} to another title"
        )
    schema = obs.schema
    if schema is None:
        plan.changes.append(Change("create", "schema", title))
        return
    plan.known.schema_id = schema.id
    tenant_group_id = plan.known.tenant_group_id if obs.tenant_group else _NOT_CREATED
    fit = field_group_fit(schema, want.wanted, tenant_group_id=tenant_group_id)
    if not fit.class_ok:
        plan.refusals.append(
            f"the schema {title!r} has the class {schema.class_id}, not XDM Individual Profile; "
            f"a schema's class cannot be changed: set {title_var} to another title"
        )
        return
    if fit.extra:
        names = ", ".join(repr(group_title(g)) for g in fit.extra)
        plan.refusals.append(
            f"the schema {title!r} has field groups the mapper does not emit ({names}); init "
            "never removes a field group (irreversible once the schema is in use): turn "
            f"{variable('xdm_audit_field_group')} / {variable('xdm_tenant_fields')} back on, "
            f"or set {title_var} to another title"
        )
    for group_id in fit.missing:
        plan.changes.append(
            Change("add", "schema_field_group", f"{title}: {group_title(group_id)}", group_id)
        )
    if not schema.union:
        plan.changes.append(Change("enable", "schema_profile", title))


def _namespace(plan: Plan, obs: Observed) -> None:
    namespace = obs.namespace
    if namespace is None:
        plan.changes.append(Change("create", "identity_namespace", NAMESPACE_CODE))
    elif namespace.id_type.upper() not in PERSON_ID_TYPES:
        plan.refusals.append(
            f"the identity namespace {NAMESPACE_CODE!r} exists with the type "
            f"{namespace.id_type}, not a person (cross-device) identifier; namespaces cannot be "
            "changed or deleted"
        )


def _dataset(plan: Plan, obs: Observed, want: Desired) -> None:
    name = want.dataset_name
    name_var = variable("aep_dataset_name")
    if len(obs.datasets) > 1:
        plan.refusals.append(
            f"{len(obs.datasets)} datasets are named {name!r}; keep one or set {name_var}"
        )
        return
    if not obs.datasets:
        plan.changes.append(Change("create", "dataset", name))
        return
    dataset = obs.datasets[0]
    plan.known.dataset_id = dataset.id
    if obs.schema is None or dataset.schema_id != obs.schema.id:
        plan.refusals.append(
            f"the dataset {name!r} ({dataset.id}) uses the schema {dataset.schema_id}, not "
            f"{want.schema_title!r}; a dataset's schema cannot be changed: set {name_var} to "
            "another name"
        )
        return
    for tag in PROFILE_TAGS:
        if not dataset.tag_enabled(tag):
            plan.changes.append(Change("enable", "dataset_tag", f"{name}: {tag}"))


def _connection(plan: Plan, obs: Observed, want: Desired) -> None:
    name = want.connection_name
    name_var = variable("aep_connection_name")
    if len(obs.connections) > 1:
        plan.refusals.append(
            f"{len(obs.connections)} connections are named {name!r}; keep one or set {name_var}"
        )
        return
    if not obs.connections:
        plan.changes.append(Change("create", "connection", name))
        return
    connection = obs.connections[0]
    plan.known.connection_id = connection.id
    plan.known.inlet_url = connection.inlet_url
    problems = []
    if connection.spec_id != HTTP_API_CONNECTION_SPEC:
        problems.append(f"its connection spec is {connection.spec_id}, not HTTP API")
    if not connection.authentication_required:
        problems.append("its inlet does not require authentication (personal data needs it)")
    if connection.data_type != "xdm":
        problems.append(f"its data type is {connection.data_type}, not xdm")
    if connection.inlet_url is None:
        problems.append("it has no inlet URL")
    if problems:
        plan.refusals.append(
            f"the connection {name!r} ({connection.id}) cannot be used: {'; '.join(problems)}; "
            f"these cannot be changed on an existing connection: set {name_var} to another name"
        )


def _flow(plan: Plan, obs: Observed, want: Desired) -> None:
    name = want.flow_name
    name_var = variable("aep_flow_name")
    if len(obs.flows) > 1:
        plan.refusals.append(f"{len(obs.flows)} dataflows are named {name!r}; set {name_var}")
        return
    if obs.flows:
        _existing_flow(plan, obs, obs.flows[0], name, name_var)
        return
    _connection_side(plan, obs, want)
    plan.changes.append(Change("create", "dataflow", name))


def _existing_flow(plan: Plan, obs: Observed, flow: FlowInfo, name: str, name_var: str) -> None:
    plan.known.flow_id = flow.id
    plan.known.flow_created_ms = flow.created_ms
    plan.known.source_id = next(iter(flow.source_connection_ids), None)
    plan.known.target_id = next(iter(flow.target_connection_ids), None)
    problems = []
    if flow.spec_id != DATA_PREP_FLOW_SPEC:
        problems.append(
            f"its flow spec is {flow.spec_id}, not the Data Prep spec {DATA_PREP_FLOW_SPEC} that "
            "honours the `operations` header (deletes would be lost)"
        )
    if flow.state != "enabled":
        problems.append(f"it is {flow.state}")
    connection_id, dataset_id = plan.known.connection_id, plan.known.dataset_id
    if not obs.flow_sources or any(
        s is None or connection_id is None or s.base_connection_id != connection_id
        for s in obs.flow_sources
    ):
        problems.append(f"its source is not the connection {variable('aep_connection_name')}")
    if not obs.flow_targets or any(
        t is None or dataset_id is None or t.dataset_id != dataset_id for t in obs.flow_targets
    ):
        problems.append(f"its target is not the dataset {variable('aep_dataset_name')}")
    if problems:
        plan.refusals.append(
            f"the dataflow {name!r} ({flow.id}) cannot be used: {'; '.join(problems)}; set "
            f"{name_var} to another name"
        )


def _connection_side(plan: Plan, obs: Observed, want: Desired) -> None:
    """Source and target connections of a dataflow still to create, found by name."""
    if len(obs.sources) > 1 or len(obs.targets) > 1:
        plan.refusals.append(
            f"several source or target connections are named {want.source_name!r} / "
            f"{want.target_name!r}; keep one of each"
        )
        return
    if obs.sources:
        source = obs.sources[0]
        if (
            plan.known.connection_id is None
            or source.base_connection_id != plan.known.connection_id
        ):
            plan.refusals.append(
                f"the source connection {want.source_name!r} ({source.id}) belongs to another "
                f"base connection; rename it in AEP or set {variable('aep_flow_name')}"
            )
        plan.known.source_id = source.id
    else:
        plan.changes.append(Change("create", "source_connection", want.source_name))
    if obs.targets:
        target = obs.targets[0]
        if plan.known.dataset_id is None or target.dataset_id != plan.known.dataset_id:
            plan.refusals.append(
                f"the target connection {want.target_name!r} ({target.id}) writes to another "
                f"dataset; rename it in AEP or set {variable('aep_flow_name')}"
            )
        plan.known.target_id = target.id
    else:
        plan.changes.append(Change("create", "target_connection", want.target_name))
