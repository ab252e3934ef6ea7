"""Schema Registry Accept-header rules (docs/AEP.md §3.2, bodies §3.9).

A resource media type is `application/vnd.adobe.{notation}{variant}+json`: the notation is `xed`
(AEP's compatibility names, `birthDate`, `_repo.createDate`) or `xdm` (standard XDM names,
`xdm:birthDate`, `repo:createDate`); the variant picks ids only, the raw document, the resolved
one, without titles, with descriptors. Descriptor lists have their own four `xdm-*` types.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from aep_emulator.platform.errors import bad_request, not_acceptable

_VENDOR = "application/vnd.adobe."


class Format(Enum):
    """The variant of a resource media type (the suffix after the notation)."""

    ID = "-id"  # lists: ids, title, version
    RAW = ""
    FULL = "-full"
    NOTEXT = "-notext"
    FULL_NOTEXT = "-full-notext"
    FULL_DESC = "-full-desc"
    DEPRECATEFIELD = "-deprecatefield"


class DescriptorFormat(Enum):
    ID = "xdm-id"
    LINK = "xdm-link"
    OBJECT = "xdm"
    V2 = "xdm-v2"


_NOTATIONS = ("xed", "xdm")
_BY_MEDIA = {
    f"{_VENDOR}{notation}{f.value}+json": (f, notation == "xdm")
    for notation in _NOTATIONS
    for f in Format
}
_DESCRIPTOR_MEDIA = {f"{_VENDOR}{f.value}+json": f for f in DescriptorFormat}


@dataclass(frozen=True)
class Accept:
    format: Format
    version: str | None
    standard: bool = False  # `xdm` notation: standard XDM field names

    @property
    def resolved(self) -> bool:
        return self.format in (Format.FULL, Format.FULL_NOTEXT, Format.FULL_DESC)

    @property
    def notext(self) -> bool:
        return self.format in (Format.NOTEXT, Format.FULL_NOTEXT)


def _split(header: str | None) -> tuple[str, str | None]:
    """(media type, `version` parameter) of the first Accept entry; 406 when missing."""
    if header is None or not header.strip():
        raise not_acceptable("Accept header parameter is required")
    media, *params = (part.strip() for part in header.split(",")[0].split(";"))
    version = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "version":
            version = value.strip()
    return media.lower(), version


def parse_accept(header: str | None) -> Accept:
    """The resource media type of an Accept header; 406 when missing or unknown."""
    media, version = _split(header)
    known = _BY_MEDIA.get(media)
    if known is None:
        raise not_acceptable(f"Unknown Accept media supplied: {media}")
    fmt, standard = known
    return Accept(fmt, version, standard)


def for_lookup(header: str | None) -> Accept:
    accept = parse_accept(header)
    if accept.format is Format.ID:
        raise not_acceptable(f"Unknown Accept media supplied: {header}")
    if not accept.version:
        raise bad_request(
            "version must be supplied in the accept header. Example: "
            "application/vnd.adobe.xed-full-notext+json; version=1"
        )
    return accept


def for_list(header: str | None) -> Accept:
    accept = parse_accept(header)
    if accept.version:
        raise bad_request(
            "version must not be supplied in the accept header. Example: "
            "application/vnd.adobe.xed-full+json"
        )
    return accept


def for_descriptor_list(header: str | None) -> DescriptorFormat:
    media, _ = _split(header)
    fmt = _DESCRIPTOR_MEDIA.get(media)
    if fmt is None:
        raise not_acceptable(f"Unknown Accept media supplied: {header}")
    return fmt
