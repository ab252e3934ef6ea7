"""The shipped subdivision codes are pycountry's, and the mapper reads them without pycountry."""

from __future__ import annotations

from mappers.subdivisions import STATE_PROVINCE, from_pycountry, known_subdivisions
from tests.support.interpreter import fresh_python


def test_the_shipped_codes_are_the_installed_pycountry_codes() -> None:
    pycountry_version, codes = from_pycountry()
    # On a pycountry upgrade: `python -m mappers.subdivisions` writes the file again.
    assert known_subdivisions() == codes, f"regenerate for pycountry {pycountry_version}"
    assert len(codes) > 4000
    assert all(STATE_PROVINCE.fullmatch(code) for code in known_subdivisions())


def test_mapping_an_address_does_not_load_pycountry() -> None:
    code = (
        "import sys\n"
        "from mappers.addresses import state_province\n"
        "assert state_province('US', 'ca') == 'US-CA'\n"
        "assert state_province('US', 'XX') is None\n"
        "print('pycountry' in sys.modules)\n"
    )
    assert fresh_python(code) == "False"
