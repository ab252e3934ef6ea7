"""Commerce customer events -> XDM Individual Profile records: pure functions and models."""

from mappers.mapper import Mapper
from mappers.options import DEFAULT_GENDER_MAP, MapperOptions, gender_map_by_id
from mappers.results import Delete, MapFailure, MapResult, OrderingKey, Upsert

__all__ = [
    "DEFAULT_GENDER_MAP",
    "Delete",
    "MapFailure",
    "MapResult",
    "Mapper",
    "MapperOptions",
    "OrderingKey",
    "Upsert",
    "gender_map_by_id",
]
