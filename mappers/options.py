"""Settings of the mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, get_args

from mappers.xdm_record import Gender
from schemas.xdm.options import XdmOptions

XDM_GENDERS: Final[frozenset[str]] = frozenset(get_args(Gender))
# Magento's option ids on a default install; they differ per install, hence configurable.
DEFAULT_GENDER_MAP: Final[Mapping[int, str]] = MappingProxyType(
    {1: "male", 2: "female", 3: "not_specified"}
)


@dataclass(frozen=True, slots=True)
class MapperOptions:
    """`email_identity`: add the e-mail as a secondary `Email` identity.
    `gender_map`: Commerce gender option id -> XDM `person.gender` value.
    `xdm`: the optional schema parts (audit field group, tenant fields).
    """

    email_identity: bool = True
    gender_map: Mapping[int, str] = field(default_factory=lambda: DEFAULT_GENDER_MAP)
    xdm: XdmOptions = field(default_factory=XdmOptions)

    def __post_init__(self) -> None:
        # A wrong value would make AEP refuse every record of that gender, asynchronously.
        for option_id, gender in self.gender_map.items():
            if isinstance(option_id, bool) or not isinstance(option_id, int):
                raise ValueError("gender_map keys must be integer option ids")
            if gender not in XDM_GENDERS:
                raise ValueError(f"gender_map values must be one of {sorted(XDM_GENDERS)}")
        object.__setattr__(self, "gender_map", MappingProxyType(dict(self.gender_map)))


def mapper_options_from(
    email_identity: bool,
    gender_map: Mapping[str, str],
    audit: bool,
    tenant_fields: bool,
    tenant_id: str | None,
) -> MapperOptions:
    """MapperOptions from the settings (`PROFILE_SYNC_XDM_EMAIL_IDENTITY`,
    `PROFILE_SYNC_GENDER_MAP` with its JSON string keys, `PROFILE_SYNC_XDM_AUDIT_FIELD_GROUP`,
    `PROFILE_SYNC_XDM_TENANT_FIELDS`, `PROFILE_SYNC_AEP_TENANT_ID`). Raises ValueError."""
    by_id: dict[int, str] = {}
    for key, gender in gender_map.items():
        try:
            by_id[int(key)] = gender
        except ValueError:
            raise ValueError("gender_map keys must be integer option ids") from None
    return MapperOptions(
        email_identity=email_identity,
        gender_map=by_id,
        xdm=XdmOptions(audit_field_group=audit, tenant_fields=tenant_fields, tenant_id=tenant_id),
    )
