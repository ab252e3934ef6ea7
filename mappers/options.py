"""Settings of the mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from schemas.genders import DEFAULT_GENDER_MAP, gender_map_by_id
from schemas.xdm.options import XdmOptions

__all__ = ["DEFAULT_GENDER_MAP", "MapperOptions", "gender_map_by_id"]


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
        object.__setattr__(self, "gender_map", MappingProxyType(gender_map_by_id(self.gender_map)))
