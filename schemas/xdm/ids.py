"""The `$id`s of the XDM class and field groups the service uses (docs/AEP.md §3.3)."""

from __future__ import annotations

from typing import Final

PROFILE_CLASS_ID: Final = "https://ns.adobe.com/xdm/context/profile"
IDENTITY_MAP_ID: Final = "https://ns.adobe.com/xdm/context/identitymap"
DEMOGRAPHIC_DETAILS_ID: Final = "https://ns.adobe.com/xdm/context/profile-person-details"
PERSONAL_CONTACT_DETAILS_ID: Final = "https://ns.adobe.com/xdm/context/profile-personal-details"
# Under /mixins/, not /context/: it predates the rename of mixins to field groups.
USER_ACCOUNT_DETAILS_ID: Final = (
    "https://ns.adobe.com/xdm/mixins/profile/profile-user-account-details"
)
EXTERNAL_SOURCE_AUDIT_ID: Final = (
    "https://ns.adobe.com/xdm/common/external-source-system-audit-details"
)

# The field groups every schema of the service has, in the order init adds them.
BASE_FIELD_GROUP_IDS: Final[tuple[str, ...]] = (
    IDENTITY_MAP_ID,
    DEMOGRAPHIC_DETAILS_ID,
    PERSONAL_CONTACT_DETAILS_ID,
    USER_ACCOUNT_DETAILS_ID,
)

# The tenant field group's real `$id` (`https://ns.adobe.com/{TENANT_ID}/mixins/<hex>`) is
# assigned by the Schema Registry when init creates it, so the project names it by a stable
# local id of the same shape and finds the real one by title.
TENANT_FIELD_GROUP_TITLE: Final = "Commerce Customer Fields"
_TENANT_FIELD_GROUP_LOCAL_ID: Final = (
    "https://ns.adobe.com/{tenant_id}/mixins/commerce-profile-sync"
)


def tenant_field_group_id(tenant_id: str) -> str:
    """The local id that stands for the tenant field group in `field_group_ids`."""
    return _TENANT_FIELD_GROUP_LOCAL_ID.format(tenant_id=tenant_id)


def is_tenant_field_group_id(field_group_id: str) -> bool:
    """True for an id made by `tenant_field_group_id` (the caller maps it to the real one)."""
    return field_group_id.startswith("https://ns.adobe.com/") and field_group_id.endswith(
        "/mixins/commerce-profile-sync"
    )
