"""Native core of profile-sync: one Commerce customer event (Avro single-object encoding) to
its XDM profile record, byte for byte what the Python path produces, or None."""

from collections.abc import Iterable, Mapping
from typing import Final, final

FINGERPRINTS: Final[tuple[bytes, ...]]
"""The 8-byte CRC-64-AVRO fingerprints (wire order) of the writer schemas the core reads."""

@final
class Core:
    """The mapping under one set of options; build it once, call `transform` per value."""

    def __init__(
        self,
        *,
        email_identity: bool,
        gender_map: Mapping[int, str],
        audit_field_group: bool,
        tenant_id: str | None,
        subdivisions: Iterable[str],
        tlds: Iterable[str],
        notes: Mapping[str, str],
    ) -> None:
        """Raises ValueError for a gender map or tenant id that MapperOptions would refuse.
        `notes`: the `mappers.notes` constants the core reports, by their names there, exactly
        `COUNTRY_CODE_DROPPED`, `STATE_PROVINCE_DROPPED`, `GENDER_UNKNOWN` and
        `DEFAULT_ADDRESS_NOT_FOUND` (ValueError for a missing or unknown name)."""

    def transform(
        self, value: bytes
    ) -> tuple[str, int, bool, int, int, bytes, tuple[str, ...]] | None:
        """(short record type, customer id, is delete, primary ms, secondary ms, entity JSON,
        notes), or None when the Python path must take the value (another schema or framing,
        malformed bytes, a refusal, an IDN e-mail domain, a non-ASCII region code). `notes` is
        the mapper's `Upsert.notes`: the same strings (those passed in) in the same order, one
        per occurrence; empty for none and for deletes. Never raises. The entity's length
        against RECORD_LIMIT is the caller's check."""
