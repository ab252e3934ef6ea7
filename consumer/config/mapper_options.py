"""The mapper's options from the XDM settings: shared by `map`, `run` and `init`."""

from __future__ import annotations

from consumer.config.settings import ConfigFileError, XdmSettings
from mappers import MapperOptions, mapper_options_from


def options_from_settings(settings: XdmSettings, tenant_id: str | None) -> MapperOptions:
    """MapperOptions from `XdmSettings` and `PROFILE_SYNC_AEP_TENANT_ID`. Raises
    `ConfigFileError` (exit 2, `consumer.config.errors.describe`) when the tenant fields are on
    without a tenant id."""
    if settings.xdm_tenant_fields and not tenant_id:
        raise ConfigFileError(
            "PROFILE_SYNC_AEP_TENANT_ID",
            "is required when PROFILE_SYNC_XDM_TENANT_FIELDS is true (`init --json` prints it)",
        )
    return mapper_options_from(
        email_identity=settings.xdm_email_identity,
        gender_map=settings.gender_map,
        audit=settings.xdm_audit_field_group,
        tenant_fields=settings.xdm_tenant_fields,
        tenant_id=tenant_id if settings.xdm_tenant_fields else None,
    )
