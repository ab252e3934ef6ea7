"""Whether `run` uses the native core (`PROFILE_SYNC_NATIVE_CORE`), and the core built for the
mapper's options.

The core implements the shipped writer schemas and the mapping of `mappers`; with an operator's
own schema directory (`PROFILE_SYNC_AVRO_SCHEMA_DIR`) the newest reader schema may be another,
so the Python steps read every record then.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from consumer.config.settings import ConfigFileError, variable
from consumer.pipeline.steps.native_core import Transformer
from mappers import MapperOptions, notes
from mappers.subdivisions import known_subdivisions
from schemas.xdm.formats import known_tlds

# The notes the core can give, by their names in `mappers.notes`: the strings have one home.
CORE_NOTES: Final = MappingProxyType(
    {
        name: getattr(notes, name)
        for name in (
            "COUNTRY_CODE_DROPPED",
            "STATE_PROVINCE_DROPPED",
            "GENDER_UNKNOWN",
            "DEFAULT_ADDRESS_NOT_FOUND",
        )
    }
)


def native_core(options: MapperOptions, *, enabled: bool, own_schemas: bool) -> Transformer | None:
    """The core for these options; None when it is off or cannot serve them. Raises
    `ConfigFileError` (exit 2) when it is on and the `profile-sync-core` package is missing."""
    if not enabled or own_schemas:
        return None
    try:
        import profile_sync_core
    except ImportError:
        raise ConfigFileError(
            variable("native_core"),
            "is true but the profile-sync-core package is not installed (pip install ./native, "
            "or set it to false to read every record with the Python steps)",
        ) from None
    return profile_sync_core.Core(
        email_identity=options.email_identity,
        gender_map=dict(options.gender_map),
        audit_field_group=options.xdm.audit_field_group,
        tenant_id=options.xdm.tenant_id if options.xdm.tenant_fields else None,
        subdivisions=known_subdivisions(),
        tlds=known_tlds(),
        notes=CORE_NOTES,
    )
