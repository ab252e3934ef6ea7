"""Commerce customer events -> XDM Individual Profile records: pure functions and models."""

from mappers.mapper import Mapper
from mappers.options import DEFAULT_GENDER_MAP, MapperOptions, gender_map_by_id
from mappers.results import Delete, EventOrder, MapFailure, MapResult, Upsert

__all__ = [
    "DEFAULT_GENDER_MAP",
    "Delete",
    "EventOrder",
    "MapFailure",
    "MapResult",
    "Mapper",
    "MapperOptions",
    "Upsert",
    "gender_map_by_id",
]
