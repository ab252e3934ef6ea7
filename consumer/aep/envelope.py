"""The XDM message envelope and the batch body (docs/AEP.md §2.3, 2.6, 2.9).

Hot path: entities arrive already serialised (compact orjson), so a batch body is byte
concatenation of a per-batch header prefix, each entity and a fixed suffix; nothing is parsed or
serialised again. Sizes are therefore known exactly before the body is built.

One message, as sent (keys in this order; `operations` only on deletes, because `create` is
AEP's default and datasets with timestamp ordering refuse the header):

    {"header":{"schemaRef":{"id":S,"contentType":C},"imsOrgId":O,"datasetId":D,"flowId":F,
     "source":{"name":N},"createdAt":MS[,"operations":{"data":"delete"}]},
     "body":{"xdmMeta":{"schemaRef":{"id":S,"contentType":C}},"xdmEntity":ENTITY}}
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Final, Literal

import orjson

from consumer.aep.protocol import OutgoingRecord

__all__ = ["CONTENT_TYPE", "DELETE_EXTRA_BYTES", "SOURCE_NAME", "EnvelopeBuilder"]

CONTENT_TYPE: Final = "application/vnd.adobe.xed-full+json;version=1"
SOURCE_NAME: Final = "commerce-profile-sync"

_BATCH_OPEN: Final = b'{"messages":['
_BATCH_CLOSE: Final = b"]}"
_MESSAGE_CLOSE: Final = b"}}"
_SEPARATOR: Final = b","
_DELETE_OPERATION: Final = b',"operations":{"data":"delete"}'
# What a delete's envelope has on top of a create's.
DELETE_EXTRA_BYTES: Final = len(_DELETE_OPERATION)

Operation = Literal["create", "delete"]


def _epoch_ms() -> int:
    return time.time_ns() // 1_000_000


class EnvelopeBuilder:
    """Builds batch bodies for one schema, dataset, organisation and dataflow."""

    def __init__(
        self,
        *,
        schema_id: str,
        org_id: str,
        dataset_id: str,
        flow_id: str | None,
        source_name: str = SOURCE_NAME,
        clock_ms: Callable[[], int] = _epoch_ms,
    ) -> None:
        schema_ref = orjson.dumps({"id": schema_id, "contentType": CONTENT_TYPE})
        header = b'{"header":{"schemaRef":' + schema_ref
        header += b',"imsOrgId":' + orjson.dumps(org_id)
        header += b',"datasetId":' + orjson.dumps(dataset_id)
        if flow_id is not None:
            header += b',"flowId":' + orjson.dumps(flow_id)
        header += b',"source":' + orjson.dumps({"name": source_name})
        self._head: Final = header + b',"createdAt":'
        body_open = b'},"body":{"xdmMeta":{"schemaRef":' + schema_ref + b'},"xdmEntity":'
        self._middles: Final[dict[str, bytes]] = {
            "create": body_open,
            "delete": _DELETE_OPERATION + body_open,
        }
        self._clock_ms = clock_ms
        created_digits = len(str(clock_ms()))
        # Bytes each message adds around its entity, the separating comma included.
        self._overheads: Final[dict[str, int]] = {
            op: len(self._head) + created_digits + len(mid) + len(_MESSAGE_CLOSE) + 1
            for op, mid in self._middles.items()
        }
        self._create_overhead = self._overheads["create"]
        self._delete_overhead = self._overheads["delete"]
        # `{"messages":[]}` less the comma the last message does not have.
        self._fixed: Final = len(_BATCH_OPEN) + len(_BATCH_CLOSE) - 1

    def body(self, records: Sequence[OutgoingRecord]) -> bytes:
        """The UTF-8 JSON body of a batch request, messages in the order of `records`."""
        created = str(self._clock_ms()).encode("ascii")
        prefixes = {op: self._head + created + mid for op, mid in self._middles.items()}
        create = prefixes["create"]
        delete = prefixes["delete"]
        parts: list[bytes] = [_BATCH_OPEN]
        append = parts.append
        for record in records:
            append(create if record.operation == "create" else delete)
            append(record.entity_json)
            append(_MESSAGE_CLOSE)
            append(_SEPARATOR)
        if records:
            parts[-1] = _BATCH_CLOSE
        else:
            append(_BATCH_CLOSE)
        return b"".join(parts)

    def request_size(self, records: Sequence[OutgoingRecord]) -> int:
        """Exact length of `body(records)`."""
        if not records:
            return len(_BATCH_OPEN) + len(_BATCH_CLOSE)
        total = self._fixed
        create = self._create_overhead
        delete = self._delete_overhead
        for record in records:
            total += len(record.entity_json) + (create if record.operation == "create" else delete)
        return total

    def message_size(self, record: OutgoingRecord) -> int:
        """Bytes `record` adds to a batch body, its separating comma included (exact)."""
        return self._overheads[record.operation] + len(record.entity_json)

    def envelope_overhead(self) -> int:
        """Bytes a create message adds beyond its entity, without the separating comma.

        A delete adds `DELETE_EXTRA_BYTES` more. Exactly:
        `request_size(rs) == request_size([]) + sum(envelope_overhead() + len(r.entity_json)
        + (DELETE_EXTRA_BYTES if r.operation == "delete" else 0) for r in rs) + len(rs) - 1`.
        """
        return self._create_overhead - 1

    def overhead(self, operation: Operation) -> int:
        """Bytes a message of `operation` adds beyond its entity, comma included (exact)."""
        return self._overheads[operation]
