"""What init reconciles towards: names (docs/DESIGN.md §4) and the mapper's field groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from consumer.config.mapper_options import options_from_settings
from consumer.config.settings import AepResourceSettings, XdmSettings
from schemas.xdm import XdmOptions, field_group_ids

# Commerce's recommended custom namespace (docs/AEP.md §5.4): a person identifier.
NAMESPACE_CODE: Final = "CustomerId"
NAMESPACE_NAME: Final = "Commerce Customer ID"
NAMESPACE_ID_TYPE: Final = "CROSS_DEVICE"
PERSON_ID_TYPES: Final = frozenset({"CROSS_DEVICE"})
PROFILE_TAGS: Final = ("unifiedProfile", "unifiedIdentity")
DESCRIPTION: Final = "Managed by commerce-profile-sync (profile-sync init)."


@dataclass(frozen=True, slots=True)
class Desired:
    tenant_id: str
    schema_title: str
    wanted: tuple[str, ...]  # class first, then field groups (tenant group as its local id)
    tenant_fields: bool
    dataset_name: str
    connection_name: str
    flow_name: str

    @property
    def source_name(self) -> str:
        return f"{self.flow_name}-source"

    @property
    def target_name(self) -> str:
        return f"{self.flow_name}-target"


def xdm_options(xdm: XdmSettings, tenant_id: str | None) -> XdmOptions:
    """Exactly the options the mapper builds from the same settings (ValueError when the
    tenant fields are on without a tenant id)."""
    return options_from_settings(xdm, tenant_id).xdm


def desired(tenant_id: str, resources: AepResourceSettings, xdm: XdmSettings) -> Desired:
    return Desired(
        tenant_id=tenant_id,
        schema_title=resources.aep_schema_title,
        wanted=tuple(field_group_ids(xdm_options(xdm, tenant_id))),
        tenant_fields=xdm.xdm_tenant_fields,
        dataset_name=resources.aep_dataset_name,
        connection_name=resources.aep_connection_name,
        flow_name=resources.aep_flow_name,
    )
