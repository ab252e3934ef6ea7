"""Catalog datasets (`/data/foundation/catalog/dataSets`, docs/AEP.md §4).

Enabling Profile (`unifiedProfile: ["enabled:true"]`) needs a union (Profile-enabled) schema,
at creation and on PATCH; the refusal uses the registry's documented body.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any, Final

import jsonpatch
import jsonpointer
from starlette.responses import Response
from starlette.routing import Route

from aep_emulator.platform.errors import bad_request, not_found
from aep_emulator.platform.filters import matches_all, parse_all, values_at
from aep_emulator.platform.gateway import (
    Call,
    OrgBindings,
    PlatformState,
    json_response,
    route_maker,
)
from aep_emulator.platform.xdm_global import TIME_SERIES_BEHAVIOR_ID, class_extends
from aep_emulator.resources import Dataset, Resources

BASE: Final = "/data/foundation/catalog/dataSets"
DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 100
_EDITABLE: Final = ("name", "description", "tags", "schemaRef")
# Query parameters with their own meaning; any other is a simple top-level filter.
_RESERVED: Final = frozenset(
    {"limit", "start", "orderBy", "properties", "property", "tags", "requestDataSource"}
)
PROFILE_NEEDS_UNION: Final = "To enable profile datasets the schema should be valid"


def document(call: Call, dataset: Dataset) -> dict[str, Any]:
    return {
        **dataset.extra,
        "name": dataset.name,
        "description": dataset.description,
        "imsOrg": call.org_id,
        "tags": {**{k: list(v) for k, v in dataset.tags.items()}, **_system_tags(dataset)},
        "version": dataset.version,
        "created": dataset.created_ms,
        "updated": dataset.updated_ms,
        "createdClient": call.client_id,
        "createdUser": call.client_id,
        "updatedUser": call.client_id,
        "viewId": dataset.id,
        "files": f"@/dataSetFiles?dataSetId={dataset.id}",
        "schemaRef": {"id": dataset.schema_id, "contentType": dataset.schema_content_type},
        "classification": {
            "dataBehavior": _data_behavior(call.resources, dataset),
            "managedBy": "CUSTOMER",
        },
    }


def _system_tags(dataset: Dataset) -> dict[str, list[str]]:
    """Tags AEP adds to every dataset: its Query Service table (the name in lower case with
    anything but letters and digits turned into `_`; the rule is inferred from examples)."""
    return {"adobe/pqs/table": [re.sub(r"[^a-z0-9]", "_", dataset.name.lower())]}


def _data_behavior(resources: Resources, dataset: Dataset) -> str:
    """`record` or `time-series`: the behaviour of the schema's class."""
    schema = resources.schemas.find(dataset.schema_id)
    time_series = schema is not None and TIME_SERIES_BEHAVIOR_ID in class_extends(schema.class_id)
    return "time-series" if time_series else "record"


def _tags(value: Any) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(v, list) and all(isinstance(i, str) for i in v) for v in value.values()
    ):
        raise bad_request("tags must be an object of string arrays")
    return {str(k): list(v) for k, v in value.items()}


def _schema_ref(resources: Resources, sandbox: str, value: Any) -> tuple[str, str]:
    if not isinstance(value, Mapping) or not isinstance(value.get("id"), str):
        raise bad_request("schemaRef.id is required")
    schema = resources.schemas.find(str(value["id"]), sandbox)
    if schema is None:
        raise bad_request(f"Object {value['id']} with version 1 not found")
    content_type = str(value.get("contentType", "application/vnd.adobe.xed-full+json;version=1"))
    return schema.id, content_type


def _check_profile(resources: Resources, schema_id: str, tags: Mapping[str, list[str]]) -> None:
    probe = Dataset(name="", schema_id=schema_id, tags=dict(tags))
    schema = resources.schemas.find(schema_id)
    if probe.profile_enabled and (schema is None or not schema.profile_enabled):
        raise bad_request(PROFILE_NEEDS_UNION)


async def create(call: Call) -> Response:
    body = await call.json()
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("name is required")
    resources = call.resources
    with resources.lock:
        schema_id, content_type = _schema_ref(resources, call.sandbox, body.get("schemaRef"))
        tags = _tags(body.get("tags"))
        _check_profile(resources, schema_id, tags)
        dataset = resources.datasets.add(
            Dataset(
                name=name,
                schema_id=schema_id,
                schema_content_type=content_type,
                description=str(body.get("description", "")),
                tags=tags,
                extra={k: v for k, v in body.items() if k not in (*_EDITABLE, "id")},
                sandbox=call.sandbox,
            )
        )
    return json_response([f"@/dataSets/{dataset.id}"], status=201)


def _find(call: Call) -> Dataset:
    dataset_id = str(call.request.path_params["dataset_id"])
    dataset = call.resources.datasets.get(dataset_id, call.sandbox)
    if dataset is None:
        raise not_found(f"Dataset {dataset_id} not found")
    return dataset


async def get(call: Call) -> Response:
    dataset = _find(call)
    return json_response({dataset.id: _trim(call, document(call, dataset))})


def _trim(call: Call, doc: dict[str, Any]) -> dict[str, Any]:
    wanted = call.request.query_params.get("properties")
    if not wanted:
        return doc
    keys = {k.strip() for k in wanted.split(",")}
    return {k: v for k, v in doc.items() if k in keys}


async def patch(call: Call) -> Response:
    operations = await call.json()
    if not isinstance(operations, list):
        raise bad_request("The request body must be a JSON Patch array")
    resources = call.resources
    with resources.lock:
        dataset = _find(call)
        current = {
            "name": dataset.name,
            "description": dataset.description,
            "tags": {k: list(v) for k, v in dataset.tags.items()},
            "schemaRef": {"id": dataset.schema_id, "contentType": dataset.schema_content_type},
        }
        try:
            patched = jsonpatch.apply_patch(current, operations)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError) as e:
            raise bad_request(f"Invalid JSON Patch: {e}") from None
        if not isinstance(patched, dict) or not isinstance(patched.get("name"), str):
            raise bad_request("name is required")
        schema_id, content_type = _schema_ref(resources, call.sandbox, patched.get("schemaRef"))
        tags = _tags(patched.get("tags"))
        _check_profile(resources, schema_id, tags)
        dataset.name = str(patched["name"])
        dataset.description = str(patched.get("description", ""))
        dataset.tags = tags
        dataset.schema_id, dataset.schema_content_type = schema_id, content_type
        resources.datasets.update(dataset)
    return json_response([f"@/dataSets/{dataset.id}"])


async def delete(call: Call) -> Response:
    with call.resources.lock:
        dataset = _find(call)
        call.resources.datasets.remove(dataset.id)
    return json_response([f"@/dataSets/{dataset.id}"])


def _simple_match(doc: Mapping[str, Any], key: str, expression: str) -> bool:
    """`name=a,b` (any of), `!` negates, `*` wildcard, `**` a literal star."""
    negate = expression.startswith("!")
    options = (expression[1:] if negate else expression).split(",")
    values = [str(v) for v in values_at(doc, key)]
    hit = any(_wildcard(option, value) for option in options for value in values)
    return hit != negate


def _wildcard(pattern: str, value: str) -> bool:
    parts = [re.escape(p).replace(r"\*", ".*") for p in pattern.split("**")]
    return re.fullmatch(r"\*".join(parts), value) is not None


def _tags_match(doc: Mapping[str, Any], expression: str) -> bool:
    tags = doc.get("tags", {})
    for clause in expression.split(","):
        name, _, value = clause.partition(":")
        values = tags.get(name) if isinstance(tags, Mapping) else None
        if values is None:
            return False
        if value and not any(fnmatch.fnmatchcase(str(v), value) for v in values):
            return False
    return True


def _int_param(call: Call, name: str, default: int, low: int, high: int) -> int:
    raw = call.request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise bad_request(f"{name} must be between {low} and {high}")
    return value


async def list_all(call: Call) -> Response:
    query = call.request.query_params
    limit = _int_param(call, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    start = _int_param(call, "start", 0, 0, 1 << 31)
    try:
        filters = parse_all(query.getlist("property"))
    except ValueError:
        raise bad_request("Invalid property filter") from None
    pairs = [(d, document(call, d)) for d in call.resources.datasets.list(call.sandbox)]
    selected = []
    for dataset, doc in pairs:
        if not matches_all(doc, filters):
            continue
        if "tags" in query and not _tags_match(doc, query["tags"]):
            continue
        if any(not _simple_match(doc, k, v) for k, v in query.multi_items() if k not in _RESERVED):
            continue
        selected.append((dataset, doc))
    for clause in reversed((query.get("orderBy") or "").split(",")):
        if clause:
            direction, _, key = clause.rpartition(":")
            selected.sort(key=lambda p: str(p[1].get(key, "")), reverse=direction == "desc")
    page = selected[start : start + limit]
    return json_response({dataset.id: _trim(call, doc) for dataset, doc in page})


def routes(state: PlatformState, orgs: OrgBindings) -> list[Route]:
    r = route_maker(BASE, state, orgs)

    return [
        r("", list_all, ["GET"]),
        r("", create, ["POST"]),
        r("/{dataset_id}", get, ["GET"]),
        r("/{dataset_id}", patch, ["PATCH"]),
        r("/{dataset_id}", delete, ["DELETE"]),
    ]
