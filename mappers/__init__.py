"""Commerce customer events -> XDM Individual Profile records: pure functions and models."""

from mappers.mapper import Mapper
from mappers.options import DEFAULT_GENDER_MAP, MapperOptions, mapper_options_from
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
    "mapper_options_from",
]
