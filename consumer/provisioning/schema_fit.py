"""Does a schema hold exactly the field groups the mapper emits? Shared by `init` (what to
add, what it cannot remove) and `run`'s start-up check (refuse to start)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from consumer.aep.platform_client import SchemaInfo
from schemas.xdm import (
    DEMOGRAPHIC_DETAILS_ID,
    EXTERNAL_SOURCE_AUDIT_ID,
    IDENTITY_MAP_ID,
    PERSONAL_CONTACT_DETAILS_ID,
    PROFILE_CLASS_ID,
    TENANT_FIELD_GROUP_TITLE,
    USER_ACCOUNT_DETAILS_ID,
    is_tenant_field_group_id,
)

__all__ = ["FieldGroupFit", "field_group_fit", "group_title"]

_TITLES: Final = {
    PROFILE_CLASS_ID: "XDM Individual Profile",
    IDENTITY_MAP_ID: "IdentityMap",
    DEMOGRAPHIC_DETAILS_ID: "Demographic Details",
    PERSONAL_CONTACT_DETAILS_ID: "Personal Contact Details",
    USER_ACCOUNT_DETAILS_ID: "User Account Details",
    EXTERNAL_SOURCE_AUDIT_ID: "External Source System Audit Details",
}


def group_title(group_id: str) -> str:
    """A readable name for messages and plan keys (the `$id` when it is not one of ours)."""
    if is_tenant_field_group_id(group_id):
        return TENANT_FIELD_GROUP_TITLE
    return _TITLES.get(group_id, group_id)


@dataclass(frozen=True, slots=True)
class FieldGroupFit:
    class_ok: bool
    missing: tuple[str, ...]  # wanted ids (tenant group as its local id) the schema lacks
    extra: tuple[str, ...]  # schema field groups the mapper does not emit

    @property
    def exact(self) -> bool:
        return self.class_ok and not self.missing and not self.extra


def field_group_fit(
    schema: SchemaInfo,
    wanted: Sequence[str],
    *,
    tenant_group_id: str | None = None,
    tenant_id: str | None = None,
) -> FieldGroupFit:
    """Compare `schema` with `wanted` (`schemas.xdm.field_group_ids`, class first).

    The tenant field group's real `$id` is assigned by the registry: pass it as
    `tenant_group_id` when known (init finds it by title); otherwise any field group of the
    tenant (`https://ns.adobe.com/{tenant_id}/...`) stands for it, so that `run` can check
    with one read of the schema.
    """
    class_id, *groups = wanted
    present = list(schema.field_group_ids)
    missing: list[str] = []
    matched: set[str] = set()
    for group in groups:
        if is_tenant_field_group_id(group):
            found = _tenant_match(present, tenant_group_id, tenant_id)
            if found is None:
                missing.append(group)
            else:
                matched.add(found)
        elif group in present:
            matched.add(group)
        else:
            missing.append(group)
    extra = tuple(g for g in present if g not in matched)
    return FieldGroupFit(schema.class_id == class_id, tuple(missing), extra)


def _tenant_match(
    present: Sequence[str], tenant_group_id: str | None, tenant_id: str | None
) -> str | None:
    if tenant_group_id is not None:
        return tenant_group_id if tenant_group_id in present else None
    prefix = f"https://ns.adobe.com/{tenant_id}/" if tenant_id else None
    for group in present:
        if prefix is not None and group.startswith(prefix):
            return group
    return None
