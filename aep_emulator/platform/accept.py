"""Schema Registry Accept-header rules (docs/AEP.md §3.2, bodies §3.9)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from aep_emulator.platform.errors import bad_request, not_acceptable

_VENDOR = "application/vnd.adobe."


class Format(Enum):
    ID = "xed-id"  # lists: ids, title, version
    RAW = "xed"
    FULL = "xed-full"
    NOTEXT = "xed-notext"
    FULL_NOTEXT = "xed-full-notext"
    FULL_DESC = "xed-full-desc"
    DEPRECATEFIELD = "xed-deprecatefield"
    DESC_ID = "xdm-id"
    DESC_LINK = "xdm-link"
    DESC_OBJECT = "xdm"
    DESC_V2 = "xdm-v2"


_BY_MEDIA = {f"{_VENDOR}{f.value}+json": f for f in Format}
RESOURCE_FORMATS = frozenset(
    {
        Format.ID,
        Format.RAW,
        Format.FULL,
        Format.NOTEXT,
        Format.FULL_NOTEXT,
        Format.FULL_DESC,
        Format.DEPRECATEFIELD,
    }
)
DESCRIPTOR_FORMATS = frozenset(
    {Format.DESC_ID, Format.DESC_LINK, Format.DESC_OBJECT, Format.DESC_V2}
)


@dataclass(frozen=True)
class Accept:
    format: Format
    version: str | None

    @property
    def resolved(self) -> bool:
        return self.format in (Format.FULL, Format.FULL_NOTEXT, Format.FULL_DESC)

    @property
    def notext(self) -> bool:
        return self.format in (Format.NOTEXT, Format.FULL_NOTEXT)


def parse_accept(header: str | None) -> Accept:
    """The vendor media type of an Accept header; 406 when missing or unknown."""
    if header is None or not header.strip():
        raise not_acceptable("Accept header parameter is required")
    first = header.split(",")[0]
    media, *params = (part.strip() for part in first.split(";"))
    fmt = _BY_MEDIA.get(media.lower())
    if fmt is None:
        raise not_acceptable(f"Unknown Accept media supplied: {media}")
    version = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "version":
            version = value.strip()
    return Accept(fmt, version)


def for_lookup(header: str | None) -> Accept:
    accept = parse_accept(header)
    if accept.format not in RESOURCE_FORMATS or accept.format is Format.ID:
        raise not_acceptable(f"Unknown Accept media supplied: {header}")
    if not accept.version:
        raise bad_request(
            "version must be supplied in the accept header. Example: "
            "application/vnd.adobe.xed-full-notext+json; version=1"
        )
    return accept


def for_list(header: str | None, allowed: frozenset[Format] = RESOURCE_FORMATS) -> Accept:
    accept = parse_accept(header)
    if accept.format not in allowed:
        raise not_acceptable(f"Unknown Accept media supplied: {header}")
    if accept.version:
        raise bad_request(
            "version must not be supplied in the accept header. Example: "
            "application/vnd.adobe.xed-full+json"
        )
    return accept
