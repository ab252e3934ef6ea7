"""A typed, synchronous client for the Platform calls `init` and `run` make.

Schema Registry (docs/AEP.md §3), Identity Service namespaces (5.4), Catalog datasets (4) and
Flow Service connections and dataflows (2.10). Lists filter on the server with `property=`
and return small typed views; the raw documents stay inside this module. Headers, retries and
error mapping live in `consumer.aep.platform_http`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

import orjson

from consumer.aep.platform_http import PlatformError, PlatformHttp

__all__ = [
    "DATA_LAKE_TARGET_SPEC",
    "DATA_PREP_FLOW_SPEC",
    "HTTP_API_CONNECTION_SPEC",
    "UNION_TAG",
    "XDM_FULL_CONTENT_TYPE",
    "ConnectionInfo",
    "DatasetInfo",
    "FieldGroupInfo",
    "FlowInfo",
    "NamespaceInfo",
    "PlatformClient",
    "SchemaInfo",
    "SourceConnectionInfo",
    "TargetConnectionInfo",
]

SCHEMA_REGISTRY: Final = "/data/foundation/schemaregistry"
CATALOG: Final = "/data/foundation/catalog"
FLOW_SERVICE: Final = "/data/foundation/flowservice"
IDENTITY: Final = "/data/core/idnamespace/identities"

# Accept headers (docs/AEP.md §3.2): ids for lists, the raw document (with `allOf`) for lookups.
ACCEPT_IDS: Final = "application/vnd.adobe.xed-id+json"
ACCEPT_LIST_FULL: Final = "application/vnd.adobe.xed+json"
ACCEPT_RAW: Final = "application/vnd.adobe.xed+json; version=1"
XDM_FULL_CONTENT_TYPE: Final = "application/vnd.adobe.xed-full+json;version=1"
JSON_PATCH: Final = "application/json-patch+json"

# Flow Service specs (docs/AEP.md §2.10).
HTTP_API_CONNECTION_SPEC: Final = "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb"
DATA_LAKE_TARGET_SPEC: Final = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
# The dataflow spec "with Data Prep": the only route that honours `header.operations`, which
# the service needs for deletes (docs/AEP.md §2.9 "use Data Prep upserts via an HTTP API source
# dataflow", 2.10 flow spec table; docs/DESIGN.md §6 "Deletes").
DATA_PREP_FLOW_SPEC: Final = "c1a19761-d2c7-4702-b9fa-fe91f0613e81"
UNION_TAG: Final = "union"


@dataclass(frozen=True, slots=True)
class SchemaInfo:
    id: str
    title: str
    class_id: str | None
    field_group_ids: tuple[str, ...]  # `allOf` refs other than the class, in order
    union: bool
    version: str


@dataclass(frozen=True, slots=True)
class FieldGroupInfo:
    id: str
    title: str
    body: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class NamespaceInfo:
    code: str
    name: str
    id: int | None
    custom: bool
    id_type: str


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    id: str
    name: str
    schema_id: str | None
    tags: Mapping[str, tuple[str, ...]]

    def tag_enabled(self, tag: str) -> bool:
        return any(v.replace(" ", "") == "enabled:true" for v in self.tags.get(tag, ()))


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    id: str
    name: str
    spec_id: str | None
    inlet_url: str | None
    authentication_required: bool
    data_type: str
    created_ms: int | None


@dataclass(frozen=True, slots=True)
class SourceConnectionInfo:
    id: str
    name: str
    base_connection_id: str | None
    spec_id: str | None


@dataclass(frozen=True, slots=True)
class TargetConnectionInfo:
    id: str
    name: str
    dataset_id: str | None
    spec_id: str | None


@dataclass(frozen=True, slots=True)
class FlowInfo:
    id: str
    name: str
    spec_id: str | None
    source_connection_ids: tuple[str, ...]
    target_connection_ids: tuple[str, ...]
    state: str
    created_ms: int | None


def _quote(resource_id: str) -> str:
    # URL-encoded `$id` is the registry's documented best practice (docs/AEP.md §3.1).
    return quote(resource_id, safe="")


def _spec_id(doc: Mapping[str, Any], key: str) -> str | None:
    spec = doc.get(key)
    return str(spec["id"]) if isinstance(spec, Mapping) and "id" in spec else None


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def schema_info(doc: Mapping[str, Any]) -> SchemaInfo:
    """The parts of a raw (`xed+json`) schema document the service checks."""
    refs = [
        str(item["$ref"])
        for item in doc.get("allOf", [])
        if isinstance(item, Mapping) and "$ref" in item
    ]
    class_id = doc.get("meta:class")
    class_id = str(class_id) if isinstance(class_id, str) else (refs[0] if refs else None)
    tags = doc.get("meta:immutableTags", [])
    return SchemaInfo(
        id=str(doc["$id"]),
        title=str(doc.get("title", "")),
        class_id=class_id,
        field_group_ids=tuple(r for r in refs if r != class_id),
        union=isinstance(tags, list) and UNION_TAG in tags,
        version=str(doc.get("version", "")),
    )


def _dataset_info(dataset_id: str, doc: Mapping[str, Any]) -> DatasetInfo:
    ref = doc.get("schemaRef")
    tags = doc.get("tags") if isinstance(doc.get("tags"), Mapping) else {}
    assert isinstance(tags, Mapping)
    return DatasetInfo(
        id=dataset_id,
        name=str(doc.get("name", "")),
        schema_id=str(ref["id"]) if isinstance(ref, Mapping) and "id" in ref else None,
        tags={str(k): tuple(str(i) for i in v) for k, v in tags.items() if isinstance(v, list)},
    )


def _connection_info(doc: Mapping[str, Any]) -> ConnectionInfo:
    auth = doc.get("auth") if isinstance(doc.get("auth"), Mapping) else {}
    assert isinstance(auth, Mapping)
    params = auth.get("params") if isinstance(auth.get("params"), Mapping) else {}
    assert isinstance(params, Mapping)
    inlet = params.get("inletUrl")
    return ConnectionInfo(
        id=str(doc["id"]),
        name=str(doc.get("name", "")),
        spec_id=_spec_id(doc, "connectionSpec"),
        inlet_url=str(inlet) if isinstance(inlet, str) else None,
        authentication_required=params.get("authenticationRequired") in (True, "true"),
        data_type=str(params.get("dataType", "xdm")),
        created_ms=_int_or_none(doc.get("createdAt")),
    )


def _source_info(doc: Mapping[str, Any]) -> SourceConnectionInfo:
    base = doc.get("baseConnectionId")
    return SourceConnectionInfo(
        id=str(doc["id"]),
        name=str(doc.get("name", "")),
        base_connection_id=str(base) if isinstance(base, str) else None,
        spec_id=_spec_id(doc, "connectionSpec"),
    )


def _target_info(doc: Mapping[str, Any]) -> TargetConnectionInfo:
    params = doc.get("params") if isinstance(doc.get("params"), Mapping) else {}
    assert isinstance(params, Mapping)
    dataset = params.get("dataSetId")
    return TargetConnectionInfo(
        id=str(doc["id"]),
        name=str(doc.get("name", "")),
        dataset_id=str(dataset) if isinstance(dataset, str) else None,
        spec_id=_spec_id(doc, "connectionSpec"),
    )


def _flow_info(doc: Mapping[str, Any]) -> FlowInfo:
    return FlowInfo(
        id=str(doc["id"]),
        name=str(doc.get("name", "")),
        spec_id=_spec_id(doc, "flowSpec"),
        source_connection_ids=tuple(str(i) for i in doc.get("sourceConnectionIds", [])),
        target_connection_ids=tuple(str(i) for i in doc.get("targetConnectionIds", [])),
        state=str(doc.get("state", "enabled")),
        created_ms=_int_or_none(doc.get("createdAt")),
    )


class PlatformClient:
    """Typed Platform calls. Every method is one HTTP request (lists: one page, which is
    enough for filtered lookups by a unique natural key)."""

    def __init__(self, http: PlatformHttp) -> None:
        self._http = http

    # ---- Schema Registry -------------------------------------------------------------------

    def tenant_id(self) -> str:
        body = self._json("GET", f"{SCHEMA_REGISTRY}/stats")
        tenant = body.get("tenantId") if isinstance(body, Mapping) else None
        if not isinstance(tenant, str) or not tenant:
            raise PlatformError("GET", f"{SCHEMA_REGISTRY}/stats", 200, "no tenantId in answer")
        return tenant

    def find_schemas(self, title: str) -> list[tuple[str, str]]:
        """(`$id`, title) of tenant schemas with exactly this title."""
        return self._registry_ids("schemas", title)

    def find_field_groups(self, title: str) -> list[tuple[str, str]]:
        return self._registry_ids("fieldgroups", title)

    def _registry_ids(self, kind: str, title: str) -> list[tuple[str, str]]:
        body = self._json(
            "GET",
            f"{SCHEMA_REGISTRY}/tenant/{kind}",
            params=[("property", f"title=={title}")],
            accept=ACCEPT_IDS,
        )
        results = body.get("results", []) if isinstance(body, Mapping) else []
        # The filter is the server's; the exact-title check guards against a looser match.
        return [
            (str(r["$id"]), str(r.get("title", "")))
            for r in results
            if isinstance(r, Mapping) and r.get("title") == title
        ]

    def get_schema(self, schema_id: str) -> SchemaInfo | None:
        body = self._json(
            "GET",
            f"{SCHEMA_REGISTRY}/tenant/schemas/{_quote(schema_id)}",
            accept=ACCEPT_RAW,
            allow_404=True,
        )
        return None if body is None else schema_info(body)

    def list_field_groups(self) -> list[FieldGroupInfo]:
        """Every tenant field group with its definitions (one page of up to 300)."""
        body = self._json(
            "GET",
            f"{SCHEMA_REGISTRY}/tenant/fieldgroups",
            params=[("orderby", "title"), ("limit", "300")],
            accept=ACCEPT_LIST_FULL,
        )
        results = body.get("results", []) if isinstance(body, Mapping) else []
        return [
            FieldGroupInfo(id=str(r["$id"]), title=str(r.get("title", "")), body=r)
            for r in results
            if isinstance(r, Mapping) and "$id" in r
        ]

    def create_field_group(self, body: Mapping[str, Any]) -> FieldGroupInfo:
        created = self._json("POST", f"{SCHEMA_REGISTRY}/tenant/fieldgroups", json_body=body)
        return FieldGroupInfo(id=str(created["$id"]), title=str(created["title"]), body=created)

    def create_schema(
        self, title: str, description: str, refs: Sequence[str], *, union: bool
    ) -> SchemaInfo:
        body: dict[str, Any] = {
            "type": "object",
            "title": title,
            "description": description,
            "allOf": [{"$ref": ref} for ref in refs],
        }
        if union:
            body["meta:immutableTags"] = [UNION_TAG]
        created = self._json("POST", f"{SCHEMA_REGISTRY}/tenant/schemas", json_body=body)
        return schema_info(created)

    def add_schema_field_groups(self, schema_id: str, group_ids: Sequence[str]) -> SchemaInfo:
        """JSON-Patch `add` of field groups (docs/AEP.md §3.6); never removes anything."""
        operations: list[dict[str, Any]] = []
        for group_id in group_ids:
            operations.append({"op": "add", "path": "/meta:extends/-", "value": group_id})
            operations.append({"op": "add", "path": "/allOf/-", "value": {"$ref": group_id}})
        return self._patch_schema(schema_id, operations)

    def enable_schema_for_profile(self, schema_id: str) -> SchemaInfo:
        operations = [{"op": "add", "path": "/meta:immutableTags", "value": [UNION_TAG]}]
        return self._patch_schema(schema_id, operations)

    def _patch_schema(self, schema_id: str, operations: list[dict[str, Any]]) -> SchemaInfo:
        body = self._json(
            "PATCH",
            f"{SCHEMA_REGISTRY}/tenant/schemas/{_quote(schema_id)}",
            json_body=operations,
        )
        return schema_info(body)

    # ---- Identity Service ------------------------------------------------------------------

    def list_namespaces(self) -> list[NamespaceInfo]:
        body = self._json("GET", IDENTITY)
        items = body if isinstance(body, list) else []
        return [
            NamespaceInfo(
                code=str(n.get("code", "")),
                name=str(n.get("name", "")),
                id=_int_or_none(n.get("id")),
                custom=bool(n.get("custom", False)),
                id_type=str(n.get("idType", "")),
            )
            for n in items
            if isinstance(n, Mapping)
        ]

    def create_namespace(self, code: str, name: str, id_type: str, description: str) -> None:
        self._json(
            "POST",
            IDENTITY,
            json_body={"name": name, "code": code, "idType": id_type, "description": description},
        )

    # ---- Catalog ---------------------------------------------------------------------------

    def find_datasets(self, name: str) -> list[DatasetInfo]:
        body = self._json(
            "GET",
            f"{CATALOG}/dataSets",
            params=[
                ("property", f"name=={name}"),
                ("properties", "name,schemaRef,tags"),
                ("limit", "100"),
            ],
        )
        items = body.items() if isinstance(body, Mapping) else []
        return [_dataset_info(str(k), v) for k, v in items if isinstance(v, Mapping)]

    def get_dataset(self, dataset_id: str) -> DatasetInfo | None:
        body = self._json("GET", f"{CATALOG}/dataSets/{_quote(dataset_id)}", allow_404=True)
        if not isinstance(body, Mapping) or dataset_id not in body:
            return None
        return _dataset_info(dataset_id, body[dataset_id])

    def create_dataset(
        self, name: str, description: str, schema_id: str, tags: Mapping[str, list[str]]
    ) -> str:
        created = self._json(
            "POST",
            f"{CATALOG}/dataSets",
            json_body={
                "name": name,
                "description": description,
                "schemaRef": {"id": schema_id, "contentType": XDM_FULL_CONTENT_TYPE},
                "tags": dict(tags),
            },
        )
        return _catalog_id(created)

    def add_dataset_tags(self, dataset_id: str, tags: Mapping[str, list[str]]) -> None:
        """JSON-Patch `add` of tags (docs/AEP.md §4.2): other tags are kept."""
        operations = [
            {"op": "add", "path": f"/tags/{name}", "value": value} for name, value in tags.items()
        ]
        self._json(
            "PATCH",
            f"{CATALOG}/dataSets/{_quote(dataset_id)}",
            json_body=operations,
            content_type=JSON_PATCH,
        )

    # ---- Flow Service ----------------------------------------------------------------------

    def find_connections(self, name: str) -> list[ConnectionInfo]:
        return [_connection_info(d) for d in self._flow_items("connections", name)]

    def get_connection(self, connection_id: str) -> ConnectionInfo | None:
        doc = self._flow_get("connections", connection_id)
        return None if doc is None else _connection_info(doc)

    def find_source_connections(self, name: str) -> list[SourceConnectionInfo]:
        return [_source_info(d) for d in self._flow_items("sourceConnections", name)]

    def get_source_connection(self, source_id: str) -> SourceConnectionInfo | None:
        doc = self._flow_get("sourceConnections", source_id)
        return None if doc is None else _source_info(doc)

    def find_target_connections(self, name: str) -> list[TargetConnectionInfo]:
        return [_target_info(d) for d in self._flow_items("targetConnections", name)]

    def get_target_connection(self, target_id: str) -> TargetConnectionInfo | None:
        doc = self._flow_get("targetConnections", target_id)
        return None if doc is None else _target_info(doc)

    def find_flows(self, name: str) -> list[FlowInfo]:
        return [_flow_info(d) for d in self._flow_items("flows", name)]

    def get_flow(self, flow_id: str) -> FlowInfo | None:
        doc = self._flow_get("flows", flow_id)
        return None if doc is None else _flow_info(doc)

    def create_connection(self, name: str, description: str) -> str:
        """An authenticated HTTP API streaming connection for XDM data (docs/AEP.md §2.2, 2.10)."""
        return self._flow_create(
            "connections",
            {
                "name": name,
                "description": description,
                "connectionSpec": {"id": HTTP_API_CONNECTION_SPEC, "version": "1.0"},
                "auth": {
                    "specName": "Streaming Connection",
                    "params": {
                        "dataType": "xdm",
                        "name": name,
                        "sourceId": name,
                        "authenticationRequired": True,
                    },
                },
            },
        )

    def create_source_connection(self, name: str, description: str, base_id: str) -> str:
        return self._flow_create(
            "sourceConnections",
            {
                "name": name,
                "description": description,
                "baseConnectionId": base_id,
                "connectionSpec": {"id": HTTP_API_CONNECTION_SPEC, "version": "1.0"},
            },
        )

    def create_target_connection(
        self, name: str, description: str, schema_id: str, dataset_id: str
    ) -> str:
        return self._flow_create(
            "targetConnections",
            {
                "name": name,
                "description": description,
                "connectionSpec": {"id": DATA_LAKE_TARGET_SPEC, "version": "1.0"},
                "data": {
                    "format": "parquet_xdm",
                    "schema": {"id": schema_id, "version": XDM_FULL_CONTENT_TYPE},
                },
                "params": {"dataSetId": dataset_id},
            },
        )

    def create_flow(self, name: str, description: str, source_id: str, target_id: str) -> str:
        return self._flow_create(
            "flows",
            {
                "name": name,
                "description": description,
                "flowSpec": {"id": DATA_PREP_FLOW_SPEC, "version": "1.0"},
                "sourceConnectionIds": [source_id],
                "targetConnectionIds": [target_id],
            },
        )

    def _flow_items(self, kind: str, name: str) -> list[Mapping[str, Any]]:
        body = self._json("GET", f"{FLOW_SERVICE}/{kind}", params=[("property", f"name=={name}")])
        items = body.get("items", []) if isinstance(body, Mapping) else []
        return [i for i in items if isinstance(i, Mapping) and i.get("name") == name and "id" in i]

    def _flow_get(self, kind: str, entity_id: str) -> Mapping[str, Any] | None:
        body = self._json("GET", f"{FLOW_SERVICE}/{kind}/{_quote(entity_id)}", allow_404=True)
        items = body.get("items", []) if isinstance(body, Mapping) else []
        return items[0] if items and isinstance(items[0], Mapping) else None

    def _flow_create(self, kind: str, body: Mapping[str, Any]) -> str:
        created = self._json("POST", f"{FLOW_SERVICE}/{kind}", json_body=body)
        return str(created["id"])

    # ---- plumbing --------------------------------------------------------------------------

    def _json(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        json_body: Any = None,
        accept: str = "application/json",
        content_type: str = "application/json",
        allow_404: bool = False,
    ) -> Any:
        response = self._http.request(
            method,
            path,
            params=params,
            json_body=json_body,
            accept=accept,
            content_type=content_type,
            allow_404=allow_404,
        )
        if response is None:
            return None
        if not response.content:
            return {}
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise PlatformError(method, path, response.status_code, "answer is not JSON") from None


def _catalog_id(created: Any) -> str:
    # Catalog answers a create with `["@/dataSets/{ID}"]` (docs/AEP.md §4.1).
    if isinstance(created, list) and created and isinstance(created[0], str):
        return created[0].rsplit("/", 1)[-1]
    raise PlatformError("POST", f"{CATALOG}/dataSets", 201, "unexpected create answer")
