"""ISO 3166-2 subdivision codes, as pycountry knows them, read from a file shipped with the mapper.

Loading pycountry's subdivision table took about 60 ms of every start-up (a tenth of the import
time of `profile-sync run`) for one set of strings. The set is written once to
`data/iso3166_2.txt` from pycountry, the source of truth, and read from there; a test fails when
the installed pycountry knows other codes, and `python -m mappers.subdivisions` writes the file
again.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

# XDM's stateProvince pattern; only codes that fit it are kept (all of pycountry's do, today).
STATE_PROVINCE: Final = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
_FILE: Final = "iso3166_2.txt"


@cache
def known_subdivisions() -> frozenset[str]:
    text = (resources.files("mappers") / "data" / _FILE).read_text(encoding="ascii")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def from_pycountry() -> tuple[str, frozenset[str]]:
    """(pycountry's version, its codes that fit the pattern): what the file should hold."""
    from importlib.metadata import version

    import pycountry

    codes = frozenset(s.code for s in pycountry.subdivisions if STATE_PROVINCE.fullmatch(s.code))
    return version("pycountry"), codes


def main() -> None:
    pycountry_version, codes = from_pycountry()
    target = Path(__file__).parent / "data" / _FILE
    header = (
        f"# ISO 3166-2 subdivision codes fitting XDM's stateProvince pattern, from pycountry "
        f"{pycountry_version}.\n# Written by `python -m mappers.subdivisions`; do not edit.\n"
    )
    target.write_text(header + "".join(f"{code}\n" for code in sorted(codes)), encoding="ascii")
    print(f"{len(codes)} codes written to {target}")


if __name__ == "__main__":
    main()
