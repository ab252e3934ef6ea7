"""Which optional parts of the XDM schema the service writes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas.xdm.ids import (
    BASE_FIELD_GROUP_IDS,
    EXTERNAL_SOURCE_AUDIT_ID,
    PROFILE_CLASS_ID,
    tenant_field_group_id,
)

# AEP tenant ids are short alphanumeric names; they become a JSON key (`_{tenant}`) and part
# of a URL, so anything else is refused before it gets there.
_TENANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*\Z")


@dataclass(frozen=True, slots=True)
class XdmOptions:
    """`audit_field_group`: emit `extSourceSystemAudit` (External Source System Audit Details).
    `tenant_fields`: emit `_{tenant_id}.commerce` (the tenant field group); needs `tenant_id`.
    """

    audit_field_group: bool = True
    tenant_fields: bool = False
    tenant_id: str | None = None

    def __post_init__(self) -> None:
        if self.tenant_id is not None and not _TENANT_ID.match(self.tenant_id):
            raise ValueError("tenant_id must be alphanumeric (underscores allowed)")
        if self.tenant_fields and self.tenant_id is None:
            raise ValueError("tenant_fields needs tenant_id")


def field_group_ids(options: XdmOptions) -> list[str]:
    """The class and field group `$id`s of the records the mapper emits, class first.

    The tenant field group appears as `ids.tenant_field_group_id(tenant_id)`, a local stand-in
    for the id the Schema Registry assigns (see `ids.is_tenant_field_group_id`).
    """
    ids = [PROFILE_CLASS_ID, *BASE_FIELD_GROUP_IDS]
    if options.audit_field_group:
        ids.append(EXTERNAL_SOURCE_AUDIT_ID)
    if options.tenant_fields:
        assert options.tenant_id is not None  # checked in XdmOptions.__post_init__
        ids.append(tenant_field_group_id(options.tenant_id))
    return ids
