"""XDM `person.gender` and the Commerce option ids that map to it.

Shared by the settings (`PROFILE_SYNC_GENDER_MAP`, checked at start) and the mapper; a light
module, so that loading the settings does not load the mapper.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

Gender = Literal["male", "female", "not_specified", "non_specific"]
XDM_GENDERS: Final[frozenset[str]] = frozenset(get_args(Gender))
# Magento's option ids on a default install; they differ per install, hence configurable.
DEFAULT_GENDER_MAP: Final[Mapping[int, str]] = MappingProxyType(
    {1: "male", 2: "female", 3: "not_specified"}
)


def gender_map_by_id(mapping: Mapping[Any, Any]) -> dict[int, str]:
    """The checked gender map, keyed by option id; JSON's string keys ("1") are accepted.

    The one check of `PROFILE_SYNC_GENDER_MAP` and `MapperOptions.gender_map`: a wrong value would
    make AEP refuse every record of that gender, asynchronously. Raises ValueError.
    """
    by_id: dict[int, str] = {}
    for key, gender in mapping.items():
        if isinstance(key, bool) or not isinstance(key, int | str):
            raise ValueError("gender_map keys must be integer option ids")
        try:
            option_id = int(key)
        except ValueError:
            raise ValueError("gender_map keys must be integer option ids") from None
        if gender not in XDM_GENDERS:
            raise ValueError(f"gender_map values must be one of {', '.join(sorted(XDM_GENDERS))}")
        by_id[option_id] = gender
    return by_id
