"""How the Schema Registry shows tenant resources: raw documents, the Accept-driven views
(`xed`, `xed-full`, `notext`, `full-desc`) and list pages (docs/AEP.md §3.2, §3.5)."""

from __future__ import annotations

import hashlib
from typing import Any, Final
from urllib.parse import urlencode

import jsonpatch
import jsonpointer
from starlette.responses import Response

from aep_emulator.platform import accept as acc
from aep_emulator.platform import notation
from aep_emulator.platform import registry_rules as rules
from aep_emulator.platform.errors import PlatformError, bad_request
from aep_emulator.platform.filters import matches_all, parse_all
from aep_emulator.platform.gateway import Call, json_response
from aep_emulator.resources import FieldGroup, Resources, Schema

BASE: Final = "/data/foundation/schemaregistry"
PAGE_CAP: Final = 300

TenantResource = Schema | FieldGroup


def duplicate_title(existing_id: str) -> PlatformError:
    return bad_request(
        f"Title must be unique. An object {existing_id} already exists with the same title."
    )


def _metadata(call: Call, resource: TenantResource) -> dict[str, Any]:
    return {
        "repo:createDate": resource.created_ms,
        "repo:lastModifiedDate": resource.updated_ms,
        "xdm:createdClientId": resource.body.get("meta:registryMetadata", {}).get(
            "xdm:createdClientId", call.client_id
        ),
        "xdm:lastModifiedClientId": call.client_id,
        "xdm:repositoryCreatedBy": call.client_id,
        "xdm:repositoryLastModifiedBy": call.client_id,
        "eTag": hashlib.sha256(f"{resource.id}:{resource.version}".encode()).hexdigest(),
    }


def raw_document(call: Call, resource: TenantResource, *, lookup: bool = False) -> dict[str, Any]:
    """A tenant resource as the registry shows it (create answer; lookup adds sandbox meta)."""
    doc = dict(resource.body)
    doc["$id"] = resource.id
    doc["meta:altId"] = resource.alt_id
    doc["version"] = resource.version
    doc["meta:registryMetadata"] = _metadata(call, resource)
    if not lookup:
        del doc["meta:registryMetadata"]["eTag"]
        return doc
    doc["meta:sandboxId"] = hashlib.md5(
        resource.sandbox.encode(), usedforsecurity=False
    ).hexdigest()
    doc["meta:sandboxType"] = "production" if resource.sandbox == "prod" else "development"
    doc["meta:tenantNamespace"] = f"_{call.tenant_id}"
    return doc


def _strip_text(node: Any, top: bool = True) -> Any:
    """The `notext` views: no titles or descriptions below the top level."""
    if isinstance(node, dict):
        return {
            k: _strip_text(v, False)
            for k, v in node.items()
            if top or k not in ("title", "description")
        }
    if isinstance(node, list):
        return [_strip_text(v, False) for v in node]
    return node


def _resolved(resources: Resources, doc: dict[str, Any], refs: list[str]) -> dict[str, Any]:
    """The `xed-full` view: `allOf` replaced by the resolved properties."""
    out = {k: v for k, v in doc.items() if k != "allOf"}
    out["properties"] = rules.resolved_properties(resources, refs)
    return out


def view(call: Call, doc: dict[str, Any], refs: list[str], accept: acc.Accept) -> dict[str, Any]:
    if accept.resolved:
        doc = _resolved(call.resources, doc, refs)
        if accept.format is acc.Format.FULL_DESC:
            schema_id = doc.get("$id")
            doc["meta:descriptors"] = [
                {"@id": d.id, **d.body}
                for d in call.resources.descriptors.list(
                    call.sandbox, where=lambda d: d.source_schema == schema_id
                )
            ]
        if accept.standard:
            doc = notation.standard(doc)
    return _strip_text(doc) if accept.notext else doc


def _next_href(call: Call, next_value: str) -> str:
    params = [(k, v) for k, v in call.request.query_params.multi_items() if k != "start"]
    return f"{call.request.url.path}?{urlencode([*params, ('start', next_value)])}"


def page(call: Call, docs: list[dict[str, Any]], accept: acc.Accept, kind: str) -> Response:
    query = call.request.query_params
    try:
        filters = parse_all(query.getlist("property"))
    except ValueError:
        raise bad_request("Invalid property filter") from None
    docs = [d for d in docs if matches_all(d, filters)]
    orderby = query.get("orderby")
    key = (orderby or "").lstrip("-+")
    if orderby:
        descending = orderby.startswith("-")
        docs.sort(key=lambda d: str(d.get(key, "")), reverse=descending)
        # `start` is the sort value of the first item of the page (`_page.next` of the last).
        start = query.get("start")
        if start is not None:
            docs = [
                d
                for d in docs
                if (str(d.get(key, "")) <= start if descending else str(d.get(key, "")) >= start)
            ]
    limit = PAGE_CAP
    if "limit" in query:
        try:
            limit = min(PAGE_CAP, int(query["limit"]))
        except ValueError:
            raise bad_request("limit must be an integer") from None
    page, rest = docs[:limit], docs[limit:]
    next_value = str(rest[0].get(key, "")) if rest and orderby else None
    if accept.format is acc.Format.ID:
        results = [{k: d.get(k) for k in ("$id", "meta:altId", "version", "title")} for d in page]
    else:
        results = page
    return json_response(
        {
            "results": results,
            "_page": {"orderby": orderby, "next": next_value, "count": len(results)},
            "_links": {
                "next": None if next_value is None else {"href": _next_href(call, next_value)},
                f"global_{kind}": {"href": f"{BASE}/global/{kind}"},
            },
        }
    )


def body_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    return body


def apply_patch(document: dict[str, Any], operations: Any) -> dict[str, Any]:
    if not isinstance(operations, list):
        raise bad_request("The request body must be a JSON Patch array")
    try:
        result = jsonpatch.apply_patch(document, operations)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError) as error:
        raise bad_request(f"Invalid JSON Patch: {error}") from None
    if not isinstance(result, dict):
        raise bad_request("The patched document must be a JSON object")
    return result
