"""The Python path the native core must equal, the cores for a set of options, and the seeded
event sets the native tests share (sample events, and mutations of them ported from the
prototype's fuzz script)."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, Final

import orjson

from consumer.pipeline.native_core import native_core
from consumer.pipeline.steps.native_core import Transformed, Transformer
from devenv.sample_events import generate_events
from mappers import Delete, MapFailure, Mapper, MapperOptions, Upsert
from schemas.avro import (
    DecodeError,
    EncodeError,
    EventDecoder,
    EventEncoder,
    WriterSchemaRegistry,
)
from schemas.xdm import compile_validator

# What the core answers (`Transformed`), as the Python steps would have it.
Outcome = Transformed


@cache
def registry() -> WriterSchemaRegistry:
    return WriterSchemaRegistry.load(None)


def encoder() -> EventEncoder:
    return EventEncoder(registry())


class PythonPath:
    """decode, map, validate, serialise, as `profile-sync run` does (bench/pipeline_bench.py's
    `Precomputed`): the outcome of a value the Python path sends, with the mapper's notes,
    else None."""

    def __init__(self, options: MapperOptions) -> None:
        self._decoder = EventDecoder(registry(), timestamps_as_millis=True)
        self._mapper = Mapper(options)
        self._validator = compile_validator(options.xdm)

    def outcome(self, value: bytes) -> Outcome | None:
        try:
            event = self._decoder.decode(value)
        except DecodeError:
            return None
        result = self._mapper.map_decoded(event.record_type, event.datum)
        if isinstance(result, MapFailure):
            return None
        if isinstance(result, Upsert) and self._validator.validate(result.record):
            return None
        primary, secondary = result.event_order
        is_delete = isinstance(result, Delete)
        found = result.notes if isinstance(result, Upsert) else ()
        entity = orjson.dumps(result.record)
        return (event.record_type, result.customer_id, is_delete, primary, secondary, entity, found)


def core_for(options: MapperOptions) -> Transformer:
    """The core `run` builds for these options (`consumer.pipeline.native_core`), so that the
    tests check what the consumer passes."""
    core = native_core(options, enabled=True, own_schemas=False)
    assert core is not None
    return core


def sample_values(count: int, seed: int, poison_share: float) -> list[bytes]:
    """Values as bench/pipeline_bench.py's `produce` encodes the sample events."""
    enc = encoder()
    return [
        event.value(enc.encode_single_object)
        for event in generate_events(count, seed, poison_share)
    ]


_WS: Final = (" ", "\t", "\u00a0", "\u3000", "\x1c", "\n", "\x85", "\u2028")
_TEXT: Final = (
    "",
    "  ",
    "O'Brien",
    'Quote "q" \\ back',
    "ctl\x01\x7f\x1f",
    "\u2028sep",
    "Émile",
    "😀",
)
_EMAILS: Final = (
    " Foo.Bar@Example.COM ",
    "a..b@example.com",
    ".a@example.com",
    "x@example.notatld",
    "x@bücher.de",
    "x@-bad-.com",
    "noat",
    "a@b@example.org",
    "\tq@example.org\n",
    "Z@sub.example.co.uk",
    "\u00a0nb@example.com\u3000",
    "o'hara+tag@example.org",
    'quo"te@example.org',
    "x@example.com.",
    "x@EXAMPLE.XN--P1AI",
    "",
)
_STREETS: Final = ("", " ", "L1", " L2 ", "L3", "L4", "L5", "\u00a0", 'q"\\')
_REGIONS: Final[tuple[dict[str, Any] | None, ...]] = (
    None,
    {"region": " ", "region_code": "ca", "region_id": 1},
    {"region": "X", "region_code": "US-NY", "region_id": None},
    {"region": None, "region_code": "ZZZ9", "region_id": None},
    {"region": "Bayern", "region_code": " by ", "region_id": 3},
    {"region": "Texas", "region_code": "tx", "region_id": None},
    {"region": None, "region_code": "US-", "region_id": None},
    {"region": "Straße", "region_code": "ß", "region_id": None},
    {"region": None, "region_code": None, "region_id": None},
)
_DATES: Final = (None, date(1, 1, 1), date(9999, 12, 31), date(1969, 12, 31), date(1904, 2, 29))


def _blank_text(rnd: random.Random) -> str | None:
    if rnd.random() < 0.2:
        return None
    return rnd.choice(_WS) + rnd.choice(_TEXT) + rnd.choice(_WS)


def _mutate_address(rnd: random.Random, a: dict[str, Any]) -> None:
    if rnd.random() < 0.4:
        a["street"] = [rnd.choice(_STREETS) for _ in range(rnd.randint(0, 6))]
    if rnd.random() < 0.3:
        a["region"] = copy.deepcopy(rnd.choice(_REGIONS))
    if rnd.random() < 0.2:
        a["country_id"] = rnd.choice([" US ", "us", "USA", "DE", "", "\u00a0FR\t"])
    if rnd.random() < 0.2:
        a["telephone"] = rnd.choice(["", "  ", " +1 555 ", "\x1c"])
    if rnd.random() < 0.2:
        a["postcode"] = rnd.choice([None, " ", "\t12345"])
    if rnd.random() < 0.2:
        a["city"] = rnd.choice(["", " Köln ", "\u3000"])


def _mutate_upsert(rnd: random.Random, d: dict[str, Any]) -> None:
    c = d["customer"]
    for key in ("firstname", "lastname", "middlename", "prefix", "suffix", "created_in"):
        if rnd.random() < 0.3:
            c[key] = _blank_text(rnd)
    if rnd.random() < 0.3:
        c["email"] = rnd.choice(_EMAILS)
    if rnd.random() < 0.2:
        c["gender"] = rnd.choice([None, 0, 1, 2, 3, 4, 7])
    if rnd.random() < 0.2:
        c["dob"] = rnd.choice(_DATES)
    if rnd.random() < 0.2:
        c["created_at"] = datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    if rnd.random() < 0.1:
        c["updated_at"] = datetime(1, 1, 1, tzinfo=UTC)
    if rnd.random() < 0.05:
        c["updated_at"] = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    if rnd.random() < 0.2:
        c["is_active"] = False
    if rnd.random() < 0.1:
        c["id"] = rnd.choice([0, -5, 2**63 - 1])
    if rnd.random() < 0.1:
        c["store_id"] = rnd.choice([-1, None, 0])
    if rnd.random() < 0.05:
        c["website_id"] = -1
    if rnd.random() < 0.1:
        c["is_subscribed"] = rnd.choice([None, True, False])
    for a in c.get("addresses", []):
        _mutate_address(rnd, a)
    if rnd.random() < 0.2:
        c["default_shipping"] = rnd.choice([None, 999999, c.get("default_billing")])
    if rnd.random() < 0.1:
        c["default_billing"] = rnd.choice([None, 999999, 0])
    if rnd.random() < 0.2 and c.get("addresses"):
        c["default_shipping"] = c["addresses"][-1]["id"]
    if rnd.random() < 0.05 and c.get("addresses"):
        c["addresses"][0]["id"] = 0
    scope = d["scope"]
    if rnd.random() < 0.2:
        scope["store_code"] = _blank_text(rnd)
    if rnd.random() < 0.1:
        scope["website_code"] = rnd.choice(_WS)


def _mutate_delete(rnd: random.Random, d: dict[str, Any]) -> None:
    if rnd.random() < 0.1:
        d["customer_id"] = rnd.choice([0, -3, 2**63 - 1])
    if rnd.random() < 0.1 and "website_id" in d:
        d["website_id"] = rnd.choice([None, -1, 0])


def fuzz_values(count: int, seed: int) -> Iterator[bytes]:
    """Sample events (5 % poison) mutated where the Python path is most particular: white space
    Python counts and Rust may not, quotes and control characters, odd e-mails, street lines,
    regions, countries, default addresses that are not there, date edges, invalid ids, empty
    event ids, and values written with the v1 writer schemas. Unencodable mutations are skipped.
    """
    rnd = random.Random(seed)
    enc = encoder()
    for event in generate_events(count, seed, 0.05):
        if event.is_poison:
            yield event.value(enc.encode_single_object)
            continue
        datum = copy.deepcopy(dict(event.datum))
        is_delete = event.record_type == "CustomerDeleted"
        if is_delete:
            _mutate_delete(rnd, datum)
        else:
            _mutate_upsert(rnd, datum)
        if rnd.random() < 0.05:
            datum["event_id"] = ""
        version = 1 if (not is_delete and rnd.random() < 0.05) else None
        try:
            yield enc.encode_single_object(event.record_type, datum, version=version)
        except EncodeError:
            continue  # a mutation the writer schema cannot hold
