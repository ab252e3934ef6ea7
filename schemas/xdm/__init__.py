"""XDM definitions, the resolver to AEP's field names, and the compiled validator."""

from schemas.xdm.formats import (
    FORMAT_CHECKS,
    is_date,
    is_date_time,
    is_email,
    is_uri_reference,
)
from schemas.xdm.ids import (
    BASE_FIELD_GROUP_IDS,
    DEMOGRAPHIC_DETAILS_ID,
    EXTERNAL_SOURCE_AUDIT_ID,
    IDENTITY_MAP_ID,
    PERSONAL_CONTACT_DETAILS_ID,
    PROFILE_CLASS_ID,
    TENANT_FIELD_GROUP_TITLE,
    USER_ACCOUNT_DETAILS_ID,
    is_tenant_field_group_id,
    tenant_field_group_id,
)
from schemas.xdm.messages import aep_message, aep_pointer
from schemas.xdm.options import XdmOptions, field_group_ids
from schemas.xdm.resolver import (
    XdmResolutionError,
    official_documents,
    resolve_schema,
    resolved_profile_schema,
    tenant_field_group,
)
from schemas.xdm.validator import Validator, Violation, compile_validator

__all__ = [
    "BASE_FIELD_GROUP_IDS",
    "DEMOGRAPHIC_DETAILS_ID",
    "EXTERNAL_SOURCE_AUDIT_ID",
    "FORMAT_CHECKS",
    "IDENTITY_MAP_ID",
    "PERSONAL_CONTACT_DETAILS_ID",
    "PROFILE_CLASS_ID",
    "TENANT_FIELD_GROUP_TITLE",
    "USER_ACCOUNT_DETAILS_ID",
    "Validator",
    "Violation",
    "XdmOptions",
    "XdmResolutionError",
    "aep_message",
    "aep_pointer",
    "compile_validator",
    "field_group_ids",
    "is_date",
    "is_date_time",
    "is_email",
    "is_tenant_field_group_id",
    "is_uri_reference",
    "official_documents",
    "resolve_schema",
    "resolved_profile_schema",
    "tenant_field_group",
    "tenant_field_group_id",
]
