"""In-memory control-plane state of the AEP emulator: one typed `Collection` per resource kind.

Everything the Platform APIs create lives here: Schema Registry tenant schemas, field groups and
descriptors; Identity Service namespaces; Catalog datasets; Flow Service base connections,
source/target connections and flows. Every kind is a dataclass deriving from `Resource` and is
kept in a `Collection` (create, look up by id or alias, list by sandbox, update, remove), so the
Platform routes (`aep_emulator.platform`) share one store instead of one hand-written set of
methods per kind. The data plane (`aep_emulator.inlet`, validation, profile store) only reads.

Rules kept here, because both planes rely on them:
- ids look like AEP's: schema `$id` `https://ns.adobe.com/{tenant}/schemas/{32 hex}` with
  `meta:altId` `_{tenant}.schemas.{32 hex}`, field groups `.../mixins/...`, dataset ids 24 hex,
  Flow Service ids UUIDs, inlet ids 64 hex, custom namespace ids integers;
- every resource records the sandbox it was created in; lists filter by sandbox when given one;
- `created_ms`/`updated_ms` are epoch milliseconds; an update bumps `updated_ms`, the minor
  `version` of registry resources and the `etag` of Flow Service objects (AEP's `If-Match`
  checks compare it);
- a flow's warm-up starts at its `updated_ms` (AEP: wait after creating *or updating* a
  dataflow); a base connection used without a dataflow warms up from its own `updated_ms`.

Thread safety: every collection takes the one re-entrant `Resources.lock`. Callers that need
several steps to be atomic ("look up by title, else create") hold `with resources.lock:` around
them. Returned objects are the stored ones; change them through `Collection.update` (or under
the lock), so that timestamps, versions and etags move.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from schemas.flow_specs import DATA_PREP_FLOW_SPEC, HTTP_API_CONNECTION_SPEC

# With Data Prep: the only flow spec whose messages may carry `header.operations`.
FLOW_SPECS_WITH_OPERATIONS: Final = frozenset({DATA_PREP_FLOW_SPEC})

UNIFIED_PROFILE_TAG: Final = "unifiedProfile"

DEFAULT_SANDBOX: Final = "prod"
DEFAULT_TENANT_ID: Final = "commerceemu"

# Standard namespaces: code -> (numeric id, display name, idType).
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


def _etag() -> str:
    # AEP returns etags as quoted strings, quotes included.
    return f'"{uuid.uuid4()}"'


def alt_id(resource_id: str) -> str:
    """`meta:altId` of a registry `$id`: `https://ns.adobe.com/xdm/context/profile` ->
    `_xdm.context.profile`, `https://ns.adobe.com/{tenant}/schemas/{hex}` ->
    `_{tenant}.schemas.{hex}`."""
    path = resource_id.split("://", 1)[-1].split("/", 1)[-1]
    return "_" + path.replace("/", ".")


class ResourceNotFound(KeyError):
    """An update or delete named a resource that is not stored."""


class DuplicateResource(ValueError):
    """A create or update would break a uniqueness rule; `args[0]` is the existing id."""


# ---- the resource kinds ---------------------------------------------------------------------


@dataclass(kw_only=True)
class Resource:
    """What every stored resource has. An empty `id` is assigned by its collection."""

    id: str = ""
    sandbox: str = DEFAULT_SANDBOX
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)

    def aliases(self) -> tuple[str, ...]:
        """Other unique keys it can be found by (fixed for its lifetime)."""
        return ()

    def visible_in(self, sandbox: str) -> bool:
        return self.sandbox == sandbox

    def touch(self) -> None:
        """Mark it changed (called by `Collection.update`)."""
        self.updated_ms = now_ms()


@dataclass(kw_only=True)
class RegistryResource(Resource):
    """A tenant schema or field group. `body` is the registry document (raw form)."""

    title: str
    body: dict[str, Any]
    version: str = "1.0"

    @property
    def alt_id(self) -> str:
        return alt_id(self.id)

    def aliases(self) -> tuple[str, ...]:
        return (self.alt_id,)

    def touch(self) -> None:
        # The registry bumps the minor version on every edit (1.0 -> 1.1).
        major, _, minor = self.version.partition(".")
        self.version = f"{major}.{int(minor or 0) + 1}"
        super().touch()


@dataclass(kw_only=True)
class Schema(RegistryResource):
    class_id: str  # `meta:class`
    field_group_ids: list[str]  # `allOf` refs other than the class, in order

    @property
    def profile_enabled(self) -> bool:
        tags = self.body.get("meta:immutableTags") or []
        return isinstance(tags, list) and "union" in tags


@dataclass(kw_only=True)
class FieldGroup(RegistryResource):
    """A tenant field group (`meta:resourceType: "mixins"`)."""


@dataclass(kw_only=True)
class Descriptor(Resource):
    """A tenant descriptor (`@id`), e.g. `xdm:descriptorIdentity`. `body` excludes `@id`."""

    body: dict[str, Any]
    version: str = "1"

    @property
    def type(self) -> str:
        return str(self.body.get("@type", ""))

    @property
    def source_schema(self) -> str:
        return str(self.body.get("xdm:sourceSchema", ""))


@dataclass(kw_only=True)
class IdentityNamespace(Resource):
    """Keyed by its numeric id (as text); also found by its code."""

    code: str
    name: str
    id_type: str
    description: str = ""
    custom: bool = True
    status: str = "ACTIVE"

    @property
    def number(self) -> int:
        return int(self.id)

    def aliases(self) -> tuple[str, ...]:
        return (self.code,)

    def visible_in(self, sandbox: str) -> bool:
        # Standard namespaces exist in every sandbox.
        return not self.custom or self.sandbox == sandbox


@dataclass(kw_only=True)
class Dataset(Resource):
    name: str
    schema_id: str  # `schemaRef.id`
    schema_content_type: str = "application/vnd.adobe.xed-full+json;version=1"
    description: str = ""
    tags: dict[str, list[str]] = field(default_factory=dict)
    # Other top-level properties the client sent (fileDescription, streamingIngestionEnabled...).
    extra: dict[str, Any] = field(default_factory=dict)
    version: str = "1.0.0"

    def tag_enabled(self, tag: str) -> bool:
        values = self.tags.get(tag) or []
        return any(v.replace(" ", "").lower() == "enabled:true" for v in values)

    @property
    def profile_enabled(self) -> bool:
        return self.tag_enabled(UNIFIED_PROFILE_TAG)


@dataclass(kw_only=True)
class FlowServiceResource(Resource):
    name: str
    description: str = ""
    state: str = "enabled"
    etag: str = field(default_factory=_etag)

    def touch(self) -> None:
        self.etag = _etag()
        super().touch()


@dataclass(kw_only=True)
class Connection(FlowServiceResource):
    """A base connection; for the HTTP API spec it owns a streaming inlet (an alias)."""

    connection_spec_id: str
    auth_params: dict[str, Any]  # `auth.params` as sent, plus inletId/inletUrl once assigned
    spec_name: str = "Streaming Connection"
    # The org that created it (`x-gw-ims-org-id`); messages' `header.imsOrgId` must match it.
    ims_org: str | None = None
    inlet_id: str | None = None
    inlet_url: str | None = None

    @property
    def authentication_required(self) -> bool:
        return bool(self.auth_params.get("authenticationRequired", False))

    def aliases(self) -> tuple[str, ...]:
        return () if self.inlet_id is None else (self.inlet_id,)


@dataclass(kw_only=True)
class SourceConnection(FlowServiceResource):
    base_connection_id: str | None
    connection_spec_id: str
    body: dict[str, Any] = field(default_factory=dict)  # other properties as sent


@dataclass(kw_only=True)
class TargetConnection(FlowServiceResource):
    connection_spec_id: str
    dataset_id: str | None  # `params.dataSetId`
    schema_id: str | None  # `data.schema.id`
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class Flow(FlowServiceResource):
    flow_spec_id: str
    source_connection_ids: list[str]
    target_connection_ids: list[str]
    transformations: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def supports_operations(self) -> bool:
        """Only Data Prep flows accept `header.operations` (create/merge/delete)."""
        return self.flow_spec_id in FLOW_SPECS_WITH_OPERATIONS


# ---- the store ------------------------------------------------------------------------------

R = TypeVar("R", bound=Resource)


class Collection(Generic[R]):
    """The stored resources of one kind, by id and by alias.

    `new_id` makes the id of a resource added without one; `prepare` runs once on add (after
    the id is set, before the aliases are indexed); `check` runs on add and on update and
    raises `DuplicateResource` for a uniqueness rule that spans more than the id.
    """

    def __init__(
        self,
        lock: threading.RLock,
        new_id: Callable[[], str],
        *,
        prepare: Callable[[R], None] | None = None,
        check: Callable[[R], None] | None = None,
    ) -> None:
        self._lock = lock
        self._new_id = new_id
        self._prepare = prepare
        self._check = check
        self._items: dict[str, R] = {}
        self._aliases: dict[str, str] = {}

    def add(self, item: R) -> R:
        with self._lock:
            if not item.id:
                item.id = self._new_id()
            if self._prepare is not None:
                self._prepare(item)
            for key in (item.id, *item.aliases()):
                taken = self._items.get(key) or self.by_alias(key)
                if taken is not None:
                    raise DuplicateResource(taken.id)
            if self._check is not None:
                self._check(item)
            self._items[item.id] = item
            for alias in item.aliases():
                self._aliases[alias] = item.id
            return item

    def get(self, resource_id: str, sandbox: str | None = None) -> R | None:
        """By id; None when absent or not visible in `sandbox` (when given)."""
        with self._lock:
            return self._visible(self._items.get(resource_id), sandbox)

    def by_alias(self, alias: str, sandbox: str | None = None) -> R | None:
        with self._lock:
            resource_id = self._aliases.get(alias)
            found = None if resource_id is None else self._items.get(resource_id)
            return self._visible(found, sandbox)

    def find(self, key: str, sandbox: str | None = None) -> R | None:
        """By id, else by alias."""
        with self._lock:
            return self.get(key, sandbox) or self.by_alias(key, sandbox)

    def list(self, sandbox: str | None = None, where: Callable[[R], bool] | None = None) -> list[R]:
        """In creation order; only those visible in `sandbox` when given."""
        with self._lock:
            return [
                item
                for item in self._items.values()
                if (sandbox is None or item.visible_in(sandbox)) and (where is None or where(item))
            ]

    def update(self, item: R) -> R:
        """Store a changed resource (it may be a copy of the stored one) and touch it."""
        with self._lock:
            if item.id not in self._items:
                raise ResourceNotFound(item.id)
            if self._check is not None:
                self._check(item)
            item.touch()
            self._items[item.id] = item
            return item

    def remove(self, resource_id: str) -> R:
        with self._lock:
            item = self._items.pop(resource_id, None)
            if item is None:
                raise ResourceNotFound(resource_id)
            for alias in item.aliases():
                self._aliases.pop(alias, None)
            return item

    @staticmethod
    def _visible(item: R | None, sandbox: str | None) -> R | None:
        return item if item is not None and (sandbox is None or item.visible_in(sandbox)) else None


def _hex(n_bytes: int) -> Callable[[], str]:
    return lambda: secrets.token_hex(n_bytes)


def _uuid() -> str:
    return str(uuid.uuid4())


class Resources:
    """The control plane's state: one collection per kind, and the lookups across kinds."""

    def __init__(self, *, tenant_id: str = DEFAULT_TENANT_ID, public_url: str = "") -> None:
        self.lock = threading.RLock()
        self.tenant_id = tenant_id
        # Base of inlet URLs handed out: `{public_url}/collection/{inletId}`.
        self.public_url = public_url.rstrip("/")
        self.clear()

    def clear(self) -> None:
        """Forget every resource but the standard namespaces (admin reset of resources)."""
        with self.lock:
            lock = self.lock
            self.schemas = Collection[Schema](
                lock, self._registry_id("schemas"), check=self._unique_title
            )
            self.field_groups = Collection[FieldGroup](
                lock, self._registry_id("mixins"), check=self._unique_title
            )
            self.descriptors = Collection[Descriptor](lock, _hex(20))
            custom_ids = itertools.count(_FIRST_CUSTOM_NAMESPACE_ID)
            self.namespaces = Collection[IdentityNamespace](lock, lambda: str(next(custom_ids)))
            self.datasets = Collection[Dataset](lock, _hex(12))
            self.connections = Collection[Connection](lock, _uuid, prepare=self._open_inlet)
            self.source_connections = Collection[SourceConnection](lock, _uuid)
            self.target_connections = Collection[TargetConnection](lock, _uuid)
            self.flows = Collection[Flow](lock, _uuid)
            for code, (number, name, id_type) in STANDARD_NAMESPACES.items():
                self.namespaces.add(
                    IdentityNamespace(
                        id=str(number), code=code, name=name, id_type=id_type, custom=False
                    )
                )

    def _registry_id(self, kind: str) -> Callable[[], str]:
        return lambda: f"https://ns.adobe.com/{self.tenant_id}/{kind}/{secrets.token_hex(16)}"

    def _unique_title(self, item: RegistryResource) -> None:
        """Titles are unique across schemas and field groups of a sandbox."""
        others: Iterable[RegistryResource] = [
            *self.schemas.list(item.sandbox),
            *self.field_groups.list(item.sandbox),
        ]
        for other in others:
            if other.title == item.title and other.id != item.id:
                raise DuplicateResource(other.id)

    def _open_inlet(self, connection: Connection) -> None:
        """An HTTP API connection gets an inlet (id, URL) like DCS assigns."""
        if connection.connection_spec_id != HTTP_API_CONNECTION_SPEC:
            return
        params = connection.auth_params = dict(connection.auth_params)
        inlet_id = secrets.token_hex(32)
        connection.inlet_id = inlet_id
        connection.inlet_url = f"{self.public_url}/collection/{inlet_id}"
        params.setdefault("sourceId", connection.name)
        params.setdefault("dataType", "xdm")
        params["authenticationRequired"] = bool(params.get("authenticationRequired", False))
        params["inletId"] = inlet_id
        params["inletUrl"] = connection.inlet_url

    # ---- lookups across kinds (the data plane's view) -----------------------------------------

    def connection_by_inlet(self, inlet_id: str) -> Connection | None:
        return self.connections.by_alias(inlet_id)

    def flows_for_connection(self, connection_id: str) -> list[Flow]:
        """Flows whose source connection sits on this base connection."""
        with self.lock:

            def on_connection(flow: Flow) -> bool:
                sources = (self.source_connections.get(i) for i in flow.source_connection_ids)
                return any(s is not None and s.base_connection_id == connection_id for s in sources)

            return self.flows.list(where=on_connection)

    def dataset_for_flow(self, flow: Flow) -> Dataset | None:
        """The dataset of the flow's (first) target connection."""
        with self.lock:
            for target_id in flow.target_connection_ids:
                target = self.target_connections.get(target_id)
                if target is not None and target.dataset_id is not None:
                    return self.datasets.get(target.dataset_id)
            return None
