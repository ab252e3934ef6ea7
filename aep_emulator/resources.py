"""In-memory control-plane state of the AEP emulator.

Everything the Platform APIs create (Schema Registry tenant schemas, field groups and
descriptors; Identity Service namespaces; Catalog datasets; Flow Service base connections,
source/target connections and flows) lives here as typed dataclasses inside one `Resources`
object. The Platform routes (`aep_emulator.platform`) translate HTTP to these methods and back;
the data plane (`aep_emulator.inlet`, validation, profile store) only reads through the lookups
at the end of the class (`connection_by_inlet`, `flows_for_connection`, `flow`, `dataset`,
`schema_for_dataset`, `dataset_for_flow`).

Rules kept here, because both planes rely on them:
- ids look like AEP's: schema `$id` `https://ns.adobe.com/{tenant}/schemas/{32 hex}` with
  `meta:altId` `_{tenant}.schemas.{32 hex}`, field groups `.../mixins/...`, dataset ids 24 hex,
  Flow Service ids UUIDs, inlet ids 64 hex, custom namespace ids integers;
- every resource records the sandbox it was created in; lists filter by sandbox when given one;
- `created_ms`/`updated_ms` are epoch milliseconds; an update bumps `updated_ms`, and `etag` for
  Flow Service objects (AEP's `If-Match` checks compare it);
- a flow's warm-up starts at its `updated_ms` (AEP: wait after creating *or updating* a dataflow);
  a base connection used without a dataflow warms up from its own `updated_ms`.

Thread safety: every public method takes `self.lock` (re-entrant). Callers that need several
steps to be atomic (e.g. "look up by title, else create") may hold `with resources.lock:` around
them. Returned objects are the stored ones; mutate them only through `update_*` methods (or
under the lock), so that timestamps and etags move.

Extending: the Platform routes may add methods or fields; keep one job per method and keep the
data-plane lookups' signatures stable.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar

# Flow Service specs (aep-api.md 2.10).
HTTP_API_CONNECTION_SPEC: Final = "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb"
DATA_LAKE_TARGET_SPEC: Final = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
# XDM in, XDM out: no transformation, so no `operations` header either.
PASSTHROUGH_FLOW_SPEC: Final = "d8a6f005-7eaf-4153-983e-e8574508b877"
# With Data Prep: the only flow spec whose messages may carry `header.operations` (aep-api.md 2.9).
DATA_PREP_FLOW_SPEC: Final = "c1a19761-d2c7-4702-b9fa-fe91f0613e81"
FLOW_SPECS_WITH_OPERATIONS: Final = frozenset({DATA_PREP_FLOW_SPEC})

PROFILE_CLASS_ID: Final = "https://ns.adobe.com/xdm/context/profile"
UNIFIED_PROFILE_TAG: Final = "unifiedProfile"
UNIFIED_IDENTITY_TAG: Final = "unifiedIdentity"

DEFAULT_SANDBOX: Final = "prod"
DEFAULT_TENANT_ID: Final = "commerceemu"

# Standard namespaces (aep-api.md 5.4): code -> (numeric id, display name, idType).
STANDARD_NAMESPACES: Final[dict[str, tuple[int, str, str]]] = {
    "CORE": (0, "CORE", "COOKIE"),
    "ECID": (4, "ECID", "COOKIE"),
    "Email": (6, "Email", "Email"),
    "Phone": (7, "Phone", "Phone"),
    "WAID": (8, "Windows AID", "DEVICE"),
    "TNTID": (9, "TNTID", "COOKIE"),
    "AdCloud": (411, "AdCloud", "COOKIE"),
    "GAID": (20914, "Google Ad ID", "DEVICE"),
    "IDFA": (20915, "Apple IDFA", "DEVICE"),
}
_FIRST_CUSTOM_NAMESPACE_ID: Final = 10_000_000


def now_ms() -> int:
    """Wall-clock epoch milliseconds (AEP's `receivedTimeMs`, `created`, ... unit)."""
    return time.time_ns() // 1_000_000


def _hex(n_bytes: int) -> str:
    return secrets.token_hex(n_bytes)


def _etag() -> str:
    # AEP returns etags as quoted strings, quotes included.
    return f'"{uuid.uuid4()}"'


class ResourceNotFound(KeyError):
    """A lookup by id found nothing."""


class DuplicateResource(ValueError):
    """A create or update would break a uniqueness rule (title, code, name)."""


# --------------------------------------------------------------------------------------------
# Schema Registry
# --------------------------------------------------------------------------------------------


@dataclass
class Schema:
    """A tenant schema. `body` is the registry document as AEP returns it (raw form)."""

    id: str  # `$id`
    alt_id: str  # `meta:altId`
    title: str
    class_id: str  # `meta:class`
    field_group_ids: list[str]  # `allOf` refs other than the class, in order
    body: dict[str, Any]
    sandbox: str = DEFAULT_SANDBOX
    version: str = "1.0"
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)

    @property
    def profile_enabled(self) -> bool:
        tags = self.body.get("meta:immutableTags") or []
        return isinstance(tags, list) and "union" in tags


@dataclass
class FieldGroup:
    """A tenant field group (`meta:resourceType: "mixins"`)."""

    id: str
    alt_id: str
    title: str
    body: dict[str, Any]
    sandbox: str = DEFAULT_SANDBOX
    version: str = "1.0"
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)


@dataclass
class Descriptor:
    """A tenant descriptor (`@id`), e.g. `xdm:descriptorIdentity`. `body` excludes `@id`."""

    id: str
    type: str  # `@type`
    source_schema: str  # `xdm:sourceSchema`
    body: dict[str, Any]
    sandbox: str = DEFAULT_SANDBOX
    version: str = "1"
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)


# --------------------------------------------------------------------------------------------
# Identity Service
# --------------------------------------------------------------------------------------------


@dataclass
class IdentityNamespace:
    id: int
    code: str
    name: str
    id_type: str
    description: str = ""
    custom: bool = True
    status: str = "ACTIVE"
    sandbox: str = DEFAULT_SANDBOX
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)


# --------------------------------------------------------------------------------------------
# Catalog
# --------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    id: str  # 24 hex
    name: str
    schema_id: str  # `schemaRef.id`
    schema_content_type: str = "application/vnd.adobe.xed-full+json;version=1"
    description: str = ""
    tags: dict[str, list[str]] = field(default_factory=dict)
    # Other top-level properties the client sent (fileDescription, streamingIngestionEnabled...).
    extra: dict[str, Any] = field(default_factory=dict)
    sandbox: str = DEFAULT_SANDBOX
    version: str = "1.0.0"
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)

    def tag_enabled(self, tag: str) -> bool:
        values = self.tags.get(tag) or []
        return any(v.replace(" ", "").lower() == "enabled:true" for v in values)

    @property
    def profile_enabled(self) -> bool:
        return self.tag_enabled(UNIFIED_PROFILE_TAG)

    @property
    def identity_enabled(self) -> bool:
        return self.tag_enabled(UNIFIED_IDENTITY_TAG)


# --------------------------------------------------------------------------------------------
# Flow Service
# --------------------------------------------------------------------------------------------


@dataclass
class Connection:
    """A base connection; for the HTTP API spec it owns a streaming inlet."""

    id: str
    name: str
    connection_spec_id: str
    auth_params: dict[str, Any]  # `auth.params` as sent, plus inletId/inletUrl once assigned
    inlet_id: str | None = None
    inlet_url: str | None = None
    authentication_required: bool = False
    description: str = ""
    spec_name: str = "Streaming Connection"
    # The org that created it (`x-gw-ims-org-id`); messages' `header.imsOrgId` must match it.
    ims_org: str | None = None
    state: str = "enabled"
    etag: str = field(default_factory=_etag)
    sandbox: str = DEFAULT_SANDBOX
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)


@dataclass
class SourceConnection:
    id: str
    name: str
    base_connection_id: str | None
    connection_spec_id: str
    body: dict[str, Any] = field(default_factory=dict)  # other properties as sent
    description: str = ""
    state: str = "enabled"
    etag: str = field(default_factory=_etag)
    sandbox: str = DEFAULT_SANDBOX
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)


@dataclass
class TargetConnection:
    id: str
    name: str
    connection_spec_id: str
    dataset_id: str | None  # `params.dataSetId`
    schema_id: str | None  # `data.schema.id`
    body: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    state: str = "enabled"
    etag: str = field(default_factory=_etag)
    sandbox: str = DEFAULT_SANDBOX
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)


@dataclass
class Flow:
    id: str
    name: str
    flow_spec_id: str
    source_connection_ids: list[str]
    target_connection_ids: list[str]
    transformations: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    state: str = "enabled"
    etag: str = field(default_factory=_etag)
    sandbox: str = DEFAULT_SANDBOX
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)

    @property
    def supports_operations(self) -> bool:
        """Only Data Prep flows accept `header.operations` (create/merge/delete)."""
        return self.flow_spec_id in FLOW_SPECS_WITH_OPERATIONS


def _in_sandbox(items: Iterable[Any], sandbox: str | None) -> list[Any]:
    return [i for i in items if sandbox is None or i.sandbox == sandbox]


_T = TypeVar("_T")


def _pop(store: dict[str, _T], key: str) -> _T:
    """Remove and return a stored resource; a missing one is `ResourceNotFound`."""
    item = store.pop(key, None)
    if item is None:
        raise ResourceNotFound(key)
    return item


class _FlowResource(Protocol):
    id: str
    etag: str
    updated_ms: int


_F = TypeVar("_F", bound=_FlowResource)


def _touch(store: Mapping[str, object], item: _F) -> _F:
    """Mark a stored Flow Service resource changed: a fresh etag, like AEP returns."""
    if item.id not in store:
        raise ResourceNotFound(item.id)
    item.etag = _etag()
    item.updated_ms = now_ms()
    return item


_V = TypeVar("_V", Schema, FieldGroup)


class Resources:
    """The control plane's state; see the module docstring for the rules."""

    def __init__(self, *, tenant_id: str = DEFAULT_TENANT_ID, public_url: str = "") -> None:
        self.lock = threading.RLock()
        self.tenant_id = tenant_id
        # Base of inlet URLs handed out: `{public_url}/collection/{inletId}`.
        self.public_url = public_url.rstrip("/")
        self._init_state()

    def _init_state(self) -> None:
        self.schemas: dict[str, Schema] = {}  # by $id
        self.field_groups: dict[str, FieldGroup] = {}  # by $id
        self.descriptors: dict[str, Descriptor] = {}  # by @id
        self.namespaces: dict[str, IdentityNamespace] = {}  # by code
        self.datasets: dict[str, Dataset] = {}
        self.connections: dict[str, Connection] = {}
        self.source_connections: dict[str, SourceConnection] = {}
        self.target_connections: dict[str, TargetConnection] = {}
        self.flows: dict[str, Flow] = {}
        self._inlets: dict[str, str] = {}  # inlet id -> connection id
        self._next_namespace_id = _FIRST_CUSTOM_NAMESPACE_ID
        for code, (ns_id, name, id_type) in STANDARD_NAMESPACES.items():
            self.namespaces[code] = IdentityNamespace(
                id=ns_id, code=code, name=name, id_type=id_type, custom=False
            )

    def clear(self) -> None:
        """Forget every resource (admin `reset` with `{"resources": true}`)."""
        with self.lock:
            self._init_state()

    # ---- Schema Registry -------------------------------------------------------------------

    def _check_unique_title(self, title: str, sandbox: str, except_id: str | None = None) -> None:
        others: list[Schema | FieldGroup] = [*self.schemas.values(), *self.field_groups.values()]
        for other in others:
            if other.title == title and other.sandbox == sandbox and other.id != except_id:
                raise DuplicateResource(other.id)

    def create_schema(
        self,
        *,
        title: str,
        class_id: str,
        field_group_ids: list[str],
        body: dict[str, Any],
        sandbox: str = DEFAULT_SANDBOX,
    ) -> Schema:
        """Store a tenant schema; raises `DuplicateResource(existing_id)` on a taken title."""
        with self.lock:
            self._check_unique_title(title, sandbox)
            suffix = _hex(16)
            schema = Schema(
                id=f"https://ns.adobe.com/{self.tenant_id}/schemas/{suffix}",
                alt_id=f"_{self.tenant_id}.schemas.{suffix}",
                title=title,
                class_id=class_id,
                field_group_ids=list(field_group_ids),
                body=body,
                sandbox=sandbox,
            )
            self.schemas[schema.id] = schema
            return schema

    def schema(self, id_or_alt_id: str) -> Schema | None:
        """A schema by `$id` or `meta:altId`."""
        with self.lock:
            found = self.schemas.get(id_or_alt_id)
            if found is not None:
                return found
            for s in self.schemas.values():
                if s.alt_id == id_or_alt_id:
                    return s
            return None

    def list_schemas(self, sandbox: str | None = None) -> list[Schema]:
        with self.lock:
            return _in_sandbox(self.schemas.values(), sandbox)

    def update_schema(self, schema: Schema) -> Schema:
        """Store a changed schema; bumps the minor version (1.0 -> 1.1) like the registry."""
        return self._update_versioned(self.schemas, schema)

    def delete_schema(self, schema_id: str) -> None:
        with self.lock:
            _pop(self.schemas, schema_id)

    def create_field_group(
        self, *, title: str, body: dict[str, Any], sandbox: str = DEFAULT_SANDBOX
    ) -> FieldGroup:
        with self.lock:
            self._check_unique_title(title, sandbox)
            suffix = _hex(16)
            group = FieldGroup(
                id=f"https://ns.adobe.com/{self.tenant_id}/mixins/{suffix}",
                alt_id=f"_{self.tenant_id}.mixins.{suffix}",
                title=title,
                body=body,
                sandbox=sandbox,
            )
            self.field_groups[group.id] = group
            return group

    def field_group(self, id_or_alt_id: str) -> FieldGroup | None:
        with self.lock:
            found = self.field_groups.get(id_or_alt_id)
            if found is not None:
                return found
            for g in self.field_groups.values():
                if g.alt_id == id_or_alt_id:
                    return g
            return None

    def list_field_groups(self, sandbox: str | None = None) -> list[FieldGroup]:
        with self.lock:
            return _in_sandbox(self.field_groups.values(), sandbox)

    def update_field_group(self, group: FieldGroup) -> FieldGroup:
        return self._update_versioned(self.field_groups, group)

    def _update_versioned(self, store: dict[str, _V], item: _V) -> _V:
        """Store a changed schema or field group and bump its minor version (1.0 -> 1.1)."""
        with self.lock:
            if item.id not in store:
                raise ResourceNotFound(item.id)
            self._check_unique_title(item.title, item.sandbox, except_id=item.id)
            major, _, minor = item.version.partition(".")
            item.version = f"{major}.{int(minor or 0) + 1}"
            item.updated_ms = now_ms()
            store[item.id] = item
            return item

    def create_descriptor(self, body: dict[str, Any], sandbox: str = DEFAULT_SANDBOX) -> Descriptor:
        with self.lock:
            descriptor = Descriptor(
                id=_hex(20),
                type=str(body.get("@type", "")),
                source_schema=str(body.get("xdm:sourceSchema", "")),
                body={k: v for k, v in body.items() if k != "@id"},
                sandbox=sandbox,
            )
            self.descriptors[descriptor.id] = descriptor
            return descriptor

    def descriptor(self, descriptor_id: str) -> Descriptor | None:
        with self.lock:
            return self.descriptors.get(descriptor_id)

    def list_descriptors(
        self, sandbox: str | None = None, source_schema: str | None = None
    ) -> list[Descriptor]:
        with self.lock:
            return [
                d
                for d in _in_sandbox(self.descriptors.values(), sandbox)
                if source_schema is None or d.source_schema == source_schema
            ]

    def update_descriptor(self, descriptor: Descriptor) -> Descriptor:
        with self.lock:
            if descriptor.id not in self.descriptors:
                raise ResourceNotFound(descriptor.id)
            descriptor.type = str(descriptor.body.get("@type", descriptor.type))
            descriptor.source_schema = str(
                descriptor.body.get("xdm:sourceSchema", descriptor.source_schema)
            )
            descriptor.updated_ms = now_ms()
            return descriptor

    def delete_descriptor(self, descriptor_id: str) -> None:
        with self.lock:
            _pop(self.descriptors, descriptor_id)

    # ---- Identity Service ------------------------------------------------------------------

    def create_namespace(
        self,
        *,
        code: str,
        name: str,
        id_type: str,
        description: str = "",
        sandbox: str = DEFAULT_SANDBOX,
    ) -> IdentityNamespace:
        """A custom namespace; raises `DuplicateResource(code)` when the code is taken."""
        with self.lock:
            if code in self.namespaces:
                raise DuplicateResource(code)
            namespace = IdentityNamespace(
                id=self._next_namespace_id,
                code=code,
                name=name,
                id_type=id_type,
                description=description,
                sandbox=sandbox,
            )
            self._next_namespace_id += 1
            self.namespaces[code] = namespace
            return namespace

    def namespace(self, code: str) -> IdentityNamespace | None:
        with self.lock:
            return self.namespaces.get(code)

    def namespace_by_id(self, namespace_id: int) -> IdentityNamespace | None:
        with self.lock:
            return next((n for n in self.namespaces.values() if n.id == namespace_id), None)

    def list_namespaces(self, sandbox: str | None = None) -> list[IdentityNamespace]:
        """Standard namespaces are visible in every sandbox; custom ones in their own."""
        with self.lock:
            return [
                n
                for n in self.namespaces.values()
                if not n.custom or sandbox is None or n.sandbox == sandbox
            ]

    # ---- Catalog ---------------------------------------------------------------------------

    def create_dataset(
        self,
        *,
        name: str,
        schema_id: str,
        schema_content_type: str = "application/vnd.adobe.xed-full+json;version=1",
        description: str = "",
        tags: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
        sandbox: str = DEFAULT_SANDBOX,
    ) -> Dataset:
        with self.lock:
            dataset = Dataset(
                id=_hex(12),
                name=name,
                schema_id=schema_id,
                schema_content_type=schema_content_type,
                description=description,
                tags={k: list(v) for k, v in (tags or {}).items()},
                extra=dict(extra or {}),
                sandbox=sandbox,
            )
            self.datasets[dataset.id] = dataset
            return dataset

    def dataset(self, dataset_id: str) -> Dataset | None:
        with self.lock:
            return self.datasets.get(dataset_id)

    def list_datasets(self, sandbox: str | None = None) -> list[Dataset]:
        with self.lock:
            return _in_sandbox(self.datasets.values(), sandbox)

    def update_dataset(self, dataset: Dataset) -> Dataset:
        with self.lock:
            if dataset.id not in self.datasets:
                raise ResourceNotFound(dataset.id)
            dataset.updated_ms = now_ms()
            return dataset

    def delete_dataset(self, dataset_id: str) -> None:
        with self.lock:
            _pop(self.datasets, dataset_id)

    # ---- Flow Service ----------------------------------------------------------------------

    def create_connection(
        self,
        *,
        name: str,
        connection_spec_id: str,
        auth_params: dict[str, Any],
        description: str = "",
        spec_name: str = "Streaming Connection",
        ims_org: str | None = None,
        sandbox: str = DEFAULT_SANDBOX,
    ) -> Connection:
        """A base connection; the HTTP API spec gets an inlet (id, URL) like DCS assigns."""
        with self.lock:
            params = dict(auth_params)
            connection = Connection(
                id=str(uuid.uuid4()),
                name=name,
                connection_spec_id=connection_spec_id,
                auth_params=params,
                authentication_required=bool(params.get("authenticationRequired", False)),
                description=description,
                spec_name=spec_name,
                ims_org=ims_org,
                sandbox=sandbox,
            )
            if connection_spec_id == HTTP_API_CONNECTION_SPEC:
                inlet_id = _hex(32)
                connection.inlet_id = inlet_id
                connection.inlet_url = f"{self.public_url}/collection/{inlet_id}"
                params.setdefault("sourceId", name)
                params.setdefault("dataType", "xdm")
                params["authenticationRequired"] = connection.authentication_required
                params["inletId"] = inlet_id
                params["inletUrl"] = connection.inlet_url
                self._inlets[inlet_id] = connection.id
            self.connections[connection.id] = connection
            return connection

    def connection(self, connection_id: str) -> Connection | None:
        with self.lock:
            return self.connections.get(connection_id)

    def list_connections(self, sandbox: str | None = None) -> list[Connection]:
        with self.lock:
            return _in_sandbox(self.connections.values(), sandbox)

    def update_connection(self, connection: Connection) -> Connection:
        with self.lock:
            return _touch(self.connections, connection)

    def delete_connection(self, connection_id: str) -> None:
        with self.lock:
            connection = _pop(self.connections, connection_id)
            if connection.inlet_id is not None:
                self._inlets.pop(connection.inlet_id, None)

    def create_source_connection(
        self,
        *,
        name: str,
        base_connection_id: str | None,
        connection_spec_id: str,
        body: dict[str, Any] | None = None,
        description: str = "",
        sandbox: str = DEFAULT_SANDBOX,
    ) -> SourceConnection:
        with self.lock:
            source = SourceConnection(
                id=str(uuid.uuid4()),
                name=name,
                base_connection_id=base_connection_id,
                connection_spec_id=connection_spec_id,
                body=dict(body or {}),
                description=description,
                sandbox=sandbox,
            )
            self.source_connections[source.id] = source
            return source

    def source_connection(self, source_id: str) -> SourceConnection | None:
        with self.lock:
            return self.source_connections.get(source_id)

    def list_source_connections(self, sandbox: str | None = None) -> list[SourceConnection]:
        with self.lock:
            return _in_sandbox(self.source_connections.values(), sandbox)

    def create_target_connection(
        self,
        *,
        name: str,
        connection_spec_id: str,
        dataset_id: str | None,
        schema_id: str | None,
        body: dict[str, Any] | None = None,
        description: str = "",
        sandbox: str = DEFAULT_SANDBOX,
    ) -> TargetConnection:
        with self.lock:
            target = TargetConnection(
                id=str(uuid.uuid4()),
                name=name,
                connection_spec_id=connection_spec_id,
                dataset_id=dataset_id,
                schema_id=schema_id,
                body=dict(body or {}),
                description=description,
                sandbox=sandbox,
            )
            self.target_connections[target.id] = target
            return target

    def target_connection(self, target_id: str) -> TargetConnection | None:
        with self.lock:
            return self.target_connections.get(target_id)

    def list_target_connections(self, sandbox: str | None = None) -> list[TargetConnection]:
        with self.lock:
            return _in_sandbox(self.target_connections.values(), sandbox)

    def create_flow(
        self,
        *,
        name: str,
        flow_spec_id: str,
        source_connection_ids: list[str],
        target_connection_ids: list[str],
        transformations: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None,
        description: str = "",
        sandbox: str = DEFAULT_SANDBOX,
    ) -> Flow:
        with self.lock:
            flow = Flow(
                id=str(uuid.uuid4()),
                name=name,
                flow_spec_id=flow_spec_id,
                source_connection_ids=list(source_connection_ids),
                target_connection_ids=list(target_connection_ids),
                transformations=list(transformations or []),
                body=dict(body or {}),
                description=description,
                sandbox=sandbox,
            )
            self.flows[flow.id] = flow
            return flow

    def list_flows(self, sandbox: str | None = None) -> list[Flow]:
        with self.lock:
            return _in_sandbox(self.flows.values(), sandbox)

    def update_flow(self, flow: Flow) -> Flow:
        """Store a changed flow; restarts its warm-up, as AEP asks to wait after an update."""
        with self.lock:
            return _touch(self.flows, flow)

    def delete_flow(self, flow_id: str) -> None:
        with self.lock:
            _pop(self.flows, flow_id)

    def find(self, items: Iterable[Any], predicate: Callable[[Any], bool]) -> list[Any]:
        """Filter helper for list endpoints, under the lock."""
        with self.lock:
            return [i for i in items if predicate(i)]

    # ---- Data-plane lookups ----------------------------------------------------------------

    def connection_by_inlet(self, inlet_id: str) -> Connection | None:
        with self.lock:
            connection_id = self._inlets.get(inlet_id)
            return None if connection_id is None else self.connections.get(connection_id)

    def flow(self, flow_id: str) -> Flow | None:
        with self.lock:
            return self.flows.get(flow_id)

    def flows_for_connection(self, connection_id: str) -> list[Flow]:
        """Flows whose source connection sits on this base connection."""
        with self.lock:
            out: list[Flow] = []
            for flow in self.flows.values():
                for source_id in flow.source_connection_ids:
                    source = self.source_connections.get(source_id)
                    if source is not None and source.base_connection_id == connection_id:
                        out.append(flow)
                        break
            return out

    def dataset_for_flow(self, flow: Flow) -> Dataset | None:
        """The dataset of the flow's (first) target connection."""
        with self.lock:
            for target_id in flow.target_connection_ids:
                target = self.target_connections.get(target_id)
                if target is not None and target.dataset_id is not None:
                    return self.datasets.get(target.dataset_id)
            return None

    def schema_for_dataset(self, dataset_id: str) -> Schema | None:
        with self.lock:
            dataset = self.datasets.get(dataset_id)
            return None if dataset is None else self.schema(dataset.schema_id)

    # ---- Added by the Platform routes (issue 6) ---------------------------------------------

    def delete_field_group(self, group_id: str) -> None:
        with self.lock:
            _pop(self.field_groups, group_id)

    def update_source_connection(self, source: SourceConnection) -> SourceConnection:
        with self.lock:
            return _touch(self.source_connections, source)

    def delete_source_connection(self, source_id: str) -> None:
        with self.lock:
            _pop(self.source_connections, source_id)

    def update_target_connection(self, target: TargetConnection) -> TargetConnection:
        with self.lock:
            return _touch(self.target_connections, target)

    def delete_target_connection(self, target_id: str) -> None:
        with self.lock:
            _pop(self.target_connections, target_id)
