"""Flow Service (`/data/foundation/flowservice`, docs/AEP.md §2.10): base connections with
their inlet, source and target connections, dataflows; list filters; etags and `If-Match`.

The flow's spec is kept on the flow (`Flow.flow_spec_id`), so the inlet accepts
`header.operations` only through a Data Prep flow (`Flow.supports_operations`).
Error bodies use Flow Service's documented `errorMessage` shape.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import jsonpatch
import jsonpointer
from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.platform.errors import PlatformError, flow_error
from aep_emulator.platform.filters import PropertyFilter, matches_all, parse_all, values_at
from aep_emulator.platform.gateway import (
    Call,
    OrgBindings,
    PlatformState,
    json_response,
    route_maker,
)
from aep_emulator.resources import (
    Collection,
    Connection,
    Flow,
    FlowServiceResource,
    Resources,
    SourceConnection,
    TargetConnection,
)
from schemas.flow_specs import (
    DATA_LAKE_TARGET_SPEC,
    DATA_PREP_FLOW_SPEC,
    HTTP_API_CONNECTION_SPEC,
    PASSTHROUGH_FLOW_SPEC,
)

BASE: Final = "/data/foundation/flowservice"
FLOW_SPECS: Final = frozenset({PASSTHROUGH_FLOW_SPEC, DATA_PREP_FLOW_SPEC})
# The connection specs the emulator implements, as `GET /connectionSpecs` lists them. Names and
# the streaming provider id are those Adobe's docs and its `aepp` SDK look specs up by.
STREAMING_PROVIDER: Final = "521eee4d-8cbe-4906-bb48-fb6bd4450033"
CONNECTION_SPECS: Final[tuple[dict[str, Any], ...]] = (
    {
        "id": HTTP_API_CONNECTION_SPEC,
        "name": "Streaming Connection",
        "providerId": STREAMING_PROVIDER,
        "version": "1.0",
        "attributes": {"category": "Streaming", "isSource": True},
        "authSpec": [{"name": "Streaming Connection", "type": "Streaming Connection"}],
    },
    {
        "id": DATA_LAKE_TARGET_SPEC,
        "name": "datalake",
        "version": "1.0",
        "attributes": {"category": "Data Lake", "isDestination": True},
        "authSpec": [],
    },
)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def _common(call: Call, entity: FlowServiceResource) -> dict[str, Any]:
    return {
        "id": entity.id,
        "createdAt": entity.created_ms,
        "updatedAt": entity.updated_ms,
        "createdBy": f"{call.client_id}@AdobeID",
        "updatedBy": f"{call.client_id}@AdobeID",
        "createdClient": call.client_id,
        "updatedClient": call.client_id,
        "sandboxId": hashlib.md5(entity.sandbox.encode(), usedforsecurity=False).hexdigest(),
        "sandboxName": entity.sandbox,
        "imsOrgId": call.org_id,
        "name": entity.name,
        "description": entity.description,
        "state": entity.state,
        "version": entity.etag,
        "etag": entity.etag,
    }


def _spec(spec_id: str) -> dict[str, str]:
    return {"id": spec_id, "version": "1.0"}


def connection_document(call: Call, c: Connection) -> dict[str, Any]:
    return {
        **_common(call, c),
        "connectionSpec": _spec(c.connection_spec_id),
        "auth": {"specName": c.spec_name, "params": dict(c.auth_params)},
    }


def source_document(call: Call, s: SourceConnection) -> dict[str, Any]:
    return {
        **s.body,
        **_common(call, s),
        "baseConnectionId": s.base_connection_id,
        "connectionSpec": _spec(s.connection_spec_id),
    }


def target_document(call: Call, t: TargetConnection) -> dict[str, Any]:
    return {
        **t.body,
        **_common(call, t),
        "connectionSpec": _spec(t.connection_spec_id),
        "params": {**t.body.get("params", {}), "dataSetId": t.dataset_id},
    }


def flow_document(call: Call, f: Flow) -> dict[str, Any]:
    resources = call.resources
    sources = []
    for source_id in f.source_connection_ids:
        source = resources.source_connections.get(source_id)
        if source is None:
            continue
        entry: dict[str, Any] = {
            "id": source.id,
            "connectionSpec": _spec(source.connection_spec_id),
        }
        base = resources.connections.get(source.base_connection_id or "")
        if base is not None:
            entry["baseConnection"] = {
                "id": base.id,
                "connectionSpec": _spec(base.connection_spec_id),
            }
        sources.append(entry)
    targets = [
        {"id": t.id, "connectionSpec": _spec(t.connection_spec_id)}
        for t in (resources.target_connections.get(i) for i in f.target_connection_ids)
        if t is not None
    ]
    return {
        **f.body,
        **_common(call, f),
        "flowSpec": _spec(f.flow_spec_id),
        "sourceConnectionIds": list(f.source_connection_ids),
        "targetConnectionIds": list(f.target_connection_ids),
        "transformations": list(f.transformations),
        "inheritedAttributes": {"sourceConnections": sources, "targetConnections": targets},
        "runs": f"/runs?property=flowId=={f.id}",
        "lastOperation": {"started": _iso(f.updated_ms), "updated": _iso(f.updated_ms)},
    }


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise flow_error(400, "The request body must be a JSON object")
    return body


def _name(body: Mapping[str, Any]) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise flow_error(400, "name is required")
    return name


def _spec_id(body: Mapping[str, Any], key: str) -> str:
    spec = body.get(key)
    if not isinstance(spec, Mapping) or not isinstance(spec.get("id"), str):
        raise flow_error(400, f"{key}.id is required")
    return str(spec["id"])


def _created(entity: FlowServiceResource) -> Response:
    return json_response({"id": entity.id, "etag": entity.etag}, status=201)


# ---- create -------------------------------------------------------------------------------


async def create_connection(call: Call) -> Response:
    body = _object(await call.json())
    name, spec_id = _name(body), _spec_id(body, "connectionSpec")
    if spec_id != HTTP_API_CONNECTION_SPEC:
        raise flow_error(400, f"Connection spec {spec_id} is not supported for base connections")
    auth = body.get("auth", {})
    params = auth.get("params", {}) if isinstance(auth, Mapping) else None
    if not isinstance(params, Mapping):
        raise flow_error(400, "auth.params must be an object")
    if params.get("dataType", "xdm") not in ("xdm", "raw"):
        raise flow_error(400, "auth.params.dataType must be xdm or raw")
    connection = call.resources.connections.add(
        Connection(
            name=name,
            connection_spec_id=spec_id,
            auth_params=dict(params),
            description=str(body.get("description", "")),
            spec_name=str(auth.get("specName", "Streaming Connection")),
            sandbox=call.sandbox,
            # DCS checks `header.imsOrgId` against the org that owns the inlet.
            ims_org=call.org_id,
        )
    )
    return _created(connection)


async def create_source(call: Call) -> Response:
    body = _object(await call.json())
    name, spec_id = _name(body), _spec_id(body, "connectionSpec")
    base_id = body.get("baseConnectionId")
    with call.resources.lock:
        connections = call.resources.connections
        base = connections.get(base_id, call.sandbox) if isinstance(base_id, str) else None
        if base is None:
            raise flow_error(400, f"Base connection {base_id} not found")
        if spec_id != base.connection_spec_id:
            raise flow_error(400, "connectionSpec must match the base connection's spec")
        source = call.resources.source_connections.add(
            SourceConnection(
                name=name,
                base_connection_id=base.id,
                connection_spec_id=spec_id,
                body={k: v for k, v in body.items() if k in ("data", "params")},
                description=str(body.get("description", "")),
                sandbox=call.sandbox,
            )
        )
    return _created(source)


def _target_refs(call: Call, body: Mapping[str, Any]) -> tuple[str, str | None]:
    params = body.get("params")
    dataset_id = params.get("dataSetId") if isinstance(params, Mapping) else None
    datasets = call.resources.datasets
    dataset = datasets.get(dataset_id, call.sandbox) if isinstance(dataset_id, str) else None
    if dataset is None:
        raise flow_error(400, f"Dataset {dataset_id} not found")
    data = body.get("data")
    schema = data.get("schema") if isinstance(data, Mapping) else None
    schema_id = schema.get("id") if isinstance(schema, Mapping) else None
    if schema_id is not None and schema_id != dataset.schema_id:
        raise flow_error(400, "data.schema.id does not match the dataset's schema")
    return dataset.id, dataset.schema_id


async def create_target(call: Call) -> Response:
    body = _object(await call.json())
    name, spec_id = _name(body), _spec_id(body, "connectionSpec")
    if spec_id != DATA_LAKE_TARGET_SPEC:
        raise flow_error(400, f"Connection spec {spec_id} is not supported for target connections")
    with call.resources.lock:
        dataset_id, schema_id = _target_refs(call, body)
        target = call.resources.target_connections.add(
            TargetConnection(
                name=name,
                connection_spec_id=spec_id,
                dataset_id=dataset_id,
                schema_id=schema_id,
                body={k: v for k, v in body.items() if k in ("data", "params")},
                description=str(body.get("description", "")),
                sandbox=call.sandbox,
            )
        )
    return _created(target)


def _flow_refs(call: Call, body: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    resources = call.resources
    sources, targets = body.get("sourceConnectionIds"), body.get("targetConnectionIds")
    if not isinstance(sources, list) or not sources or not isinstance(targets, list) or not targets:
        raise flow_error(400, "sourceConnectionIds and targetConnectionIds are required")
    for source_id in sources:
        if resources.source_connections.get(str(source_id), call.sandbox) is None:
            raise flow_error(400, f"Source connection {source_id} not found")
    for target_id in targets:
        if resources.target_connections.get(str(target_id), call.sandbox) is None:
            raise flow_error(400, f"Target connection {target_id} not found")
    return [str(s) for s in sources], [str(t) for t in targets]


def _transformations(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    value = body.get("transformations", [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise flow_error(400, "transformations must be an array of objects")
    return list(value)


async def create_flow(call: Call) -> Response:
    body = _object(await call.json())
    name, spec_id = _name(body), _spec_id(body, "flowSpec")
    if spec_id not in FLOW_SPECS:
        raise flow_error(400, f"Flow spec {spec_id} is not supported")
    with call.resources.lock:
        sources, targets = _flow_refs(call, body)
        flow = call.resources.flows.add(
            Flow(
                name=name,
                flow_spec_id=spec_id,
                source_connection_ids=sources,
                target_connection_ids=targets,
                transformations=_transformations(body),
                body={k: v for k, v in body.items() if k in ("scheduleParams", "options")},
                description=str(body.get("description", "")),
                sandbox=call.sandbox,
            )
        )
    return _created(flow)


# ---- read, list, update, delete (shared) ---------------------------------------------------


class Kind:
    """One Flow Service collection: its path, its store and how a patch applies."""

    def __init__(
        self,
        path: str,
        label: str,
        store: Callable[[Resources], Collection[Any]],
        render: Callable[[Call, Any], dict[str, Any]],
        apply: Callable[[Call, Any, dict[str, Any]], None],
    ) -> None:
        self.path, self.label = path, label
        self.store, self.render, self.apply = store, render, apply

    def find(self, call: Call) -> FlowServiceResource:
        entity_id = str(call.request.path_params["entity_id"])
        entity: FlowServiceResource | None = self.store(call.resources).get(entity_id, call.sandbox)
        if entity is None:
            raise flow_error(404, f"{self.label} with id {entity_id} not found")
        return entity


def _check_etag(call: Call, entity: FlowServiceResource, *, required: bool) -> None:
    supplied = call.request.headers.get("if-match")
    if supplied is None:
        if required:
            raise flow_error(400, "If-Match header is required")
        return
    if supplied.strip().strip('"') != entity.etag.strip('"'):
        raise flow_error(
            412,
            f"Supplied version=[{supplied}] does not match the current version on "
            f"entity=[{entity.id}]",
        )


def _order_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) else (1, str(value))


def _listing(call: Call, docs: list[dict[str, Any]]) -> Response:
    """A Flow Service list: `property` filters, `orderby`, `limit`, `count`."""
    query = call.request.query_params
    try:
        filters: list[PropertyFilter] = parse_all(query.getlist("property"))
    except ValueError:
        raise flow_error(400, "Invalid property filter") from None
    docs = [d for d in docs if matches_all(d, filters)]
    orderby = query.get("orderby") or query.get("orderBy")
    if orderby:
        key = orderby.lstrip("+-")
        docs.sort(
            key=lambda d: _order_key((values_at(d, key) or [""])[0]),
            reverse=orderby.startswith("-"),
        )
    if "limit" in query:
        try:
            docs = docs[: max(0, int(query["limit"]))]
        except ValueError:
            raise flow_error(400, "limit must be an integer") from None
    if query.get("count") == "true":
        return json_response({"count": len(docs)})
    return json_response({"items": docs})


def list_entities(kind: Kind) -> Callable[[Call], Any]:
    async def run(call: Call) -> Response:
        stored = kind.store(call.resources).list(call.sandbox)
        return _listing(call, [kind.render(call, e) for e in stored])

    return run


async def list_connection_specs(call: Call) -> Response:
    return _listing(call, [dict(spec) for spec in CONNECTION_SPECS])


async def get_connection_spec(call: Call) -> Response:
    spec_id = str(call.request.path_params["spec_id"])
    for spec in CONNECTION_SPECS:
        if spec["id"] == spec_id:
            return json_response({"items": [spec]})
    raise flow_error(404, f"Connection spec with id {spec_id} not found")


def get_entity(kind: Kind) -> Callable[[Call], Any]:
    async def run(call: Call) -> Response:
        return json_response({"items": [kind.render(call, kind.find(call))]})

    return run


def patch_entity(kind: Kind) -> Callable[[Call], Any]:
    async def run(call: Call) -> Response:
        operations = await call.json()
        if not isinstance(operations, list):
            raise flow_error(400, "The request body must be a JSON Patch array")
        with call.resources.lock:
            entity = kind.find(call)
            _check_etag(call, entity, required=True)
            current = kind.render(call, entity)
            try:
                patched = jsonpatch.apply_patch(current, operations)
            except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError):
                raise flow_error(400, "Invalid JSON Patch") from None
            kind.apply(call, entity, _object(patched))
            kind.store(call.resources).update(entity)
        return json_response({"id": entity.id, "etag": entity.etag})

    return run


def delete_entity(kind: Kind) -> Callable[[Call], Any]:
    async def run(call: Call) -> Response:
        with call.resources.lock:
            entity = kind.find(call)
            _check_etag(call, entity, required=False)
            kind.store(call.resources).remove(entity.id)
        return Response(status_code=204)

    return run


def _state(body: Mapping[str, Any]) -> str:
    state = body.get("state", "enabled")
    if state not in ("enabled", "disabled", "draft"):
        raise flow_error(400, "state must be enabled, disabled or draft")
    return str(state)


def _update_connection(call: Call, c: Connection, body: dict[str, Any]) -> None:
    c.name, c.description, c.state = _name(body), str(body.get("description", "")), _state(body)
    auth = body.get("auth", {})
    params = dict(auth.get("params", {})) if isinstance(auth, Mapping) else {}
    # The inlet is the connection's identity at DCS: a patch cannot move it.
    for fixed in ("inletId", "inletUrl"):
        if fixed in c.auth_params:
            params[fixed] = c.auth_params[fixed]
    c.auth_params = params


def _update_source(call: Call, s: SourceConnection, body: dict[str, Any]) -> None:
    s.name, s.description, s.state = _name(body), str(body.get("description", "")), _state(body)
    s.body = {k: v for k, v in body.items() if k in ("data", "params")}


def _update_target(call: Call, t: TargetConnection, body: dict[str, Any]) -> None:
    name, state = _name(body), _state(body)
    t.dataset_id, t.schema_id = _target_refs(call, body)
    t.name, t.description, t.state = name, str(body.get("description", "")), state
    t.body = {k: v for k, v in body.items() if k in ("data", "params")}


def _update_flow(call: Call, f: Flow, body: dict[str, Any]) -> None:
    name, state = _name(body), _state(body)
    if _spec_id(body, "flowSpec") != f.flow_spec_id:
        raise flow_error(400, "The flow spec of a dataflow cannot be changed")
    f.source_connection_ids, f.target_connection_ids = _flow_refs(call, body)
    f.transformations = _transformations(body)
    f.name, f.description, f.state = name, str(body.get("description", "")), state


KINDS: Final = (
    Kind(
        "/connections",
        "Connection",
        lambda r: r.connections,
        connection_document,
        _update_connection,
    ),
    Kind(
        "/sourceConnections",
        "Source connection",
        lambda r: r.source_connections,
        source_document,
        _update_source,
    ),
    Kind(
        "/targetConnections",
        "Target connection",
        lambda r: r.target_connections,
        target_document,
        _update_target,
    ),
    Kind("/flows", "Flow", lambda r: r.flows, flow_document, _update_flow),
)
_CREATE: Final = {
    "/connections": create_connection,
    "/sourceConnections": create_source,
    "/targetConnections": create_target,
    "/flows": create_flow,
}


def routes(state: PlatformState, orgs: OrgBindings) -> list[Route]:
    r = route_maker(BASE, state, orgs)

    out: list[Route] = [
        r("/connectionSpecs", list_connection_specs, ["GET"]),
        r("/connectionSpecs/{spec_id}", get_connection_spec, ["GET"]),
    ]
    for kind in KINDS:
        out += [
            r(kind.path, list_entities(kind), ["GET"]),
            r(kind.path, _CREATE[kind.path], ["POST"]),
            r(kind.path + "/{entity_id}", get_entity(kind), ["GET"]),
            r(kind.path + "/{entity_id}", patch_entity(kind), ["PATCH"]),
            r(kind.path + "/{entity_id}", delete_entity(kind), ["DELETE"]),
        ]
    return out


__all__ = ["PlatformError", "routes"]
