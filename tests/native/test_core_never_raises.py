"""`transform` takes any bytes without raising: random bytes, valid values cut short anywhere,
and valid values with a byte changed."""

from __future__ import annotations

import random

from mappers import MapperOptions
from schemas.xdm import XdmOptions
from tests.native.support import core_for, sample_values

CORE = core_for(MapperOptions(xdm=XdmOptions(tenant_fields=True, tenant_id="acme")))
HEADER = bytes([0xC3, 0x01])


def test_random_bytes() -> None:
    rnd = random.Random(17)
    for _ in range(2000):
        value = rnd.randbytes(rnd.randint(0, 64))
        if rnd.random() < 0.5:
            value = HEADER + value
        CORE.transform(value)


def test_truncated_and_altered_values() -> None:
    rnd = random.Random(23)
    handled = 0
    for value in sample_values(300, 4, 0.0):
        handled += CORE.transform(value) is not None
        for cut in range(len(value)):
            assert CORE.transform(value[:cut]) is None
        for _ in range(10):
            changed = bytearray(value)
            changed[rnd.randrange(len(changed))] = rnd.randrange(256)
            CORE.transform(bytes(changed))
        CORE.transform(value + b"\x00")
    assert handled > 0
