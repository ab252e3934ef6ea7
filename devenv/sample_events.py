"""Realistic, reproducible sample events of the contract, for `profile-sync produce` and tests.

Pure: the same (count, seed, poison_share) always gives the same events. Customers live in
several countries and write in several scripts (Latin, Cyrillic, Greek, CJK, Arabic); optional
fields are often missing; a customer is created, then updated several times with increasing
`updated_at`, and sometimes deleted. Names, streets and phone numbers are invented from small
word lists (no real person's data); e-mail domains are the reserved `example.*` ones.

A share of the events (`poison_share`) is poison, marked by `poison_kind`:
- mapping-level (`invalid_email`): a well-formed event the mapper refuses (`map.invalid_email`);
- byte-level (`empty_value`, `unknown_magic`, `truncated`, `unknown_schema`): the value sent is
  not a decodable event; `SampleEvent.value` produces those bytes from the encoded event.
Every upsert carries the whole customer, so the next good event of a customer after a poison
one carries the real data again.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal

RecordType = Literal["CustomerCreated", "CustomerUpdated", "CustomerDeleted"]
PoisonKind = Literal["invalid_email", "empty_value", "unknown_magic", "truncated", "unknown_schema"]
WireFormat = Literal["single-object", "confluent"]

MAPPING_POISON: Final[tuple[PoisonKind, ...]] = ("invalid_email",)
BYTE_POISON: Final[tuple[PoisonKind, ...]] = (
    "empty_value",
    "unknown_magic",
    "truncated",
    "unknown_schema",
)
SOURCE: Final = "acme.production"
_START: Final = datetime(2026, 11, 1, tzinfo=UTC)

# Encodes (record_type, datum) into the wire format the producer uses.
Encoder = Callable[[str, dict[str, Any]], bytes]


@dataclass(frozen=True, slots=True)
class SampleEvent:
    """One message: `key` (customer id, decimal), `record_type`, `datum` (Avro-ready: datetime
    for timestamps, date for `dob`), and for poison its kind and, when fixed, its bytes."""

    key: str
    record_type: RecordType
    datum: dict[str, Any]
    poison_kind: PoisonKind | None = None
    poison: bytes | None = None

    @property
    def is_poison(self) -> bool:
        return self.poison_kind is not None

    def value(self, encode: Encoder) -> bytes:
        """The bytes to send: the encoded datum, or the poison made from it."""
        if self.poison is not None:
            return self.poison
        encoded = encode(self.record_type, self.datum)
        if self.poison_kind == "truncated":
            # Cut inside the header of either wire format (5 or 10 bytes).
            return encoded[:4]
        if self.poison_kind == "unknown_schema":
            return _unknown_schema(encoded)
        return encoded


def expected_error_class(kind: PoisonKind, wire_format: WireFormat) -> str:
    """The error class the service gives a poison event of this kind."""
    if kind == "invalid_email":
        return "map.invalid_email"
    if kind == "empty_value":
        return "decode.empty_value"
    if kind == "unknown_magic":
        return "decode.unknown_magic"
    if kind == "truncated":
        return "decode.truncated"
    return (
        "decode.unknown_fingerprint"
        if wire_format == "single-object"
        else ("decode.unknown_schema_id")
    )


def _unknown_schema(encoded: bytes) -> bytes:
    if encoded[:2] == b"\xc3\x01":
        # A fingerprint no schema has: every byte of the real one flipped.
        return encoded[:2] + bytes(b ^ 0xFF for b in encoded[2:10]) + encoded[10:]
    # Confluent: the largest schema id, which no registry hands out.
    return b"\x00\x7f\xff\xff\xff" + encoded[5:]


@dataclass(frozen=True, slots=True)
class _Locale:
    country: str
    website: str
    store_view: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[tuple[str, str | None, str | None, str], ...]
    """(city, region name, Magento region code, postcode prefix)"""
    phone: str
    ascii_names: tuple[str, ...]


_LOCALES: Final[tuple[_Locale, ...]] = (
    _Locale(
        "US",
        "base",
        "default",
        ("Avery", "Jordan", "Riley", "Morgan", "Casey", "Quinn"),
        ("Hollis", "Brandt", "Calloway", "Ferris", "Whitlock", "Sumner"),
        ("Maple Avenue", "Harbor Road", "Cedar Lane", "Lakeview Drive"),
        (
            ("Springfield", "California", "CA", "90"),
            ("Riverton", "New York", "NY", "10"),
            ("Fairview", "Texas", "TX", "75"),
        ),
        "+1 555-01{n:02d}",
        ("avery", "jordan", "riley", "morgan", "casey", "quinn"),
    ),
    _Locale(
        "DE",
        "eu",
        "de",
        ("Lena", "Jonas", "Mila", "Felix", "Greta", "Emil"),
        ("Vogtmann", "Kessler", "Brunnhuber", "Lindqvist", "Oberle", "Sänger"),
        ("Lindenstraße", "Am Mühlbach", "Gartenweg", "Schillerplatz"),
        (
            ("München", "Bayern", "BY", "80"),
            ("Berlin", "Berlin", "BE", "10"),
            # Magento's own code for Niedersachsen, which is not the ISO one (DE-NI).
            ("Hannover", "Niedersachsen", "NDS", "30"),
        ),
        "+49 30 5550{n:02d}",
        ("lena", "jonas", "mila", "felix", "greta", "emil"),
    ),
    _Locale(
        "FR",
        "eu",
        "fr",
        ("Élodie", "Théo", "Anaïs", "Luc", "Maëlle", "Hugo"),
        ("Durandeau", "Lefebvrier", "Marchetti", "Rousselin", "Béranger", "Fontaine"),
        ("rue des Lilas", "avenue du Port", "place de l'Église", "chemin des Vignes"),
        (("Lyon", None, None, "69"), ("Bordeaux", None, None, "33")),
        "+33 1 55 50 {n:02d} 00",
        ("elodie", "theo", "anais", "luc", "maelle", "hugo"),
    ),
    _Locale(
        "RU",
        "intl",
        "ru",
        ("Анна", "Илья", "Мария", "Дмитрий", "Ольга", "Павел"),
        ("Громова", "Седов", "Белова", "Журавлёв", "Лесков", "Орлова"),
        ("ул. Садовая", "пр. Мира", "ул. Лесная", "наб. Речная"),
        (("Москва", "Москва", "MOW", "101"), ("Санкт-Петербург", "Санкт-Петербург", "SPE", "190")),
        "+7 495 555-01-{n:02d}",
        ("anna", "ilya", "maria", "dmitry", "olga", "pavel"),
    ),
    _Locale(
        "GR",
        "eu",
        "el",
        ("Ελένη", "Νίκος", "Μαρία", "Γιώργος", "Σοφία", "Άρης"),
        ("Παπαδάκη", "Αλεξίου", "Κωνσταντίνου", "Μαυρίδης", "Σταύρου", "Λάμπρου"),
        ("Οδός Ερμού", "Λεωφόρος Αλεξάνδρας", "Οδός Αιόλου", "Πλατεία Ελευθερίας"),
        (("Αθήνα", "Αττική", "I", "105"), ("Θεσσαλονίκη", "Κεντρική Μακεδονία", "B", "546")),
        "+30 210 555 01{n:02d}",
        ("eleni", "nikos", "maria", "giorgos", "sofia", "aris"),
    ),
    _Locale(
        "JP",
        "asia",
        "ja",
        ("さくら", "健太", "陽菜", "翔", "美咲", "蓮"),
        ("山田", "佐藤", "高橋", "中村", "小林", "渡辺"),
        ("桜通り1-2-3", "中央町4-5", "緑が丘2-8-1", "港町3-1"),
        (("千代田区", "東京都", "13", "100"), ("大阪市", "大阪府", "27", "530")),
        "+81 3-5550-01{n:02d}",
        ("sakura", "kenta", "hina", "sho", "misaki", "ren"),
    ),
    _Locale(
        "CN",
        "asia",
        "zh",
        ("伟", "芳", "娜", "强", "敏", "静"),
        ("王", "李", "张", "刘", "陈", "杨"),
        ("长安街88号", "南京路12号", "人民路5号", "解放大道21号"),
        (("北京", "北京市", "BJ", "100"), ("上海", "上海市", "SH", "200")),
        "+86 10 5550 01{n:02d}",
        ("wei", "fang", "na", "qiang", "min", "jing"),
    ),
    _Locale(
        "AE",
        "intl",
        "ar",
        ("ليلى", "عمر", "نور", "خالد", "سارة", "يوسف"),
        ("الحداد", "المنصوري", "الكعبي", "الشامسي", "النعيمي", "الظاهري"),
        ("شارع الوصل", "شارع الشيخ زايد", "شارع الخليج", "شارع الجميرا"),
        (("دبي", "دبي", "DU", "00"), ("أبوظبي", "أبوظبي", "AZ", "00")),
        "+971 4 555 01{n:02d}",
        ("layla", "omar", "nour", "khalid", "sara", "yousef"),
    ),
)
_DOMAINS: Final = ("example.com", "example.org", "example.net")
_PREFIXES: Final = ("Dr.", "Mr.", "Ms.", "Mx.", "Prof.")
_SUFFIXES: Final = ("Jr.", "Sr.", "III", "PhD")
_INVALID_EMAILS: Final = (
    "no-at-sign.example.com",
    "double@@example.com",
    "spaces in@example.com",
    "trailing-dot.@example.com",
    "nobody@localhost",
    "@example.com",
)
_MAX_ADDRESSES: Final = 4
_STORE_IDS: Final = {"base": 1, "eu": 2, "asia": 3, "intl": 4}


@dataclass(slots=True)
class _Customer:
    id: int
    locale: _Locale
    website_id: int
    created_at: datetime
    fields: dict[str, Any] = field(default_factory=dict)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    next_address_id: int = 0


class _Generator:
    def __init__(self, seed: int, poison_share: float) -> None:
        self._rng = random.Random(seed)
        self._poison_share = poison_share
        self._clock = _START + timedelta(seconds=self._rng.randrange(86_400))
        # Different seeds give different customer ids, so two runs can share a topic.
        self._next_id = 1 + (seed % 1000) * 1_000_000
        self._live: list[_Customer] = []

    def events(self, count: int) -> Iterator[SampleEvent]:
        for _ in range(count):
            event = self._next_event()
            if self._rng.random() < self._poison_share:
                yield self._poisoned(event)
            else:
                yield event

    # --- the event stream -------------------------------------------------------------

    def _tick(self) -> datetime:
        self._clock += timedelta(milliseconds=self._rng.randrange(1, 5_000))
        return self._clock

    def _next_event(self) -> SampleEvent:
        roll = self._rng.random()
        if not self._live or roll < 0.35:
            return self._created()
        if roll < 0.40:
            return self._deleted(self._live.pop(self._rng.randrange(len(self._live))))
        return self._updated(self._rng.choice(self._live))

    def _envelope(self, customer: _Customer, moment: datetime) -> dict[str, Any]:
        lag = timedelta(milliseconds=self._rng.randrange(0, 800))
        return {
            "event_id": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            "event_time": moment + lag,
            "source": SOURCE,
            "scope": {
                "website_code": customer.locale.website,
                "store_code": f"{customer.locale.website}_store",
                "store_view_code": customer.locale.store_view if self._rng.random() < 0.9 else None,
            },
        }

    def _created(self) -> SampleEvent:
        moment = self._tick()
        locale = self._rng.choice(_LOCALES)
        customer = _Customer(
            id=self._next_id,
            locale=locale,
            website_id=_STORE_IDS[locale.website],
            created_at=moment,
        )
        self._next_id += 1
        self._fill_person(customer)
        for _ in range(self._rng.choice((0, 1, 1, 1, 2, 3))):
            self._add_address(customer)
        self._pick_defaults(customer)
        self._live.append(customer)
        return self._upsert("CustomerCreated", customer, moment)

    def _updated(self, customer: _Customer) -> SampleEvent:
        moment = self._tick()
        change = self._rng.randrange(5)
        if change == 0:
            self._fill_person(customer, keep_email=True)
        elif change == 1 or not customer.addresses:
            if len(customer.addresses) >= _MAX_ADDRESSES:
                customer.addresses.pop(0)
            self._add_address(customer)
            self._pick_defaults(customer)
        elif change == 2:
            self._pick_defaults(customer)
        elif change == 3:
            customer.fields["is_subscribed"] = self._rng.choice((True, False))
        else:
            customer.fields["group_id"] = self._rng.choice((1, 1, 2, 3))
        return self._upsert("CustomerUpdated", customer, moment)

    def _deleted(self, customer: _Customer) -> SampleEvent:
        moment = self._tick()
        datum = self._envelope(customer, moment)
        datum["customer_id"] = customer.id
        datum["email"] = customer.fields["email"] if self._rng.random() < 0.7 else None
        datum["website_id"] = customer.website_id if self._rng.random() < 0.7 else None
        return SampleEvent(str(customer.id), "CustomerDeleted", datum)

    def _upsert(
        self, record_type: RecordType, customer: _Customer, moment: datetime
    ) -> SampleEvent:
        datum = self._envelope(customer, moment)
        datum["customer"] = {
            "id": customer.id,
            **customer.fields,
            "website_id": customer.website_id,
            "created_at": customer.created_at,
            "updated_at": moment,
            "addresses": [dict(address) for address in customer.addresses],
        }
        _flag_defaults(datum["customer"])
        return SampleEvent(str(customer.id), record_type, datum)

    # --- customer data ---------------------------------------------------------------------

    def _maybe(self, share: float, value: Any) -> Any:
        return value if self._rng.random() < share else None

    def _fill_person(self, customer: _Customer, keep_email: bool = False) -> None:
        rng = self._rng
        locale = customer.locale
        index = rng.randrange(len(locale.first_names))
        email = customer.fields.get("email")
        if not keep_email or email is None:
            local = f"{locale.ascii_names[index]}.{customer.id}"
            email = f"{local}@{rng.choice(_DOMAINS)}"
            if rng.random() < 0.1:
                # As typed: upper case and stray spaces, which the mapper cleans.
                email = f"  {email.upper()} "
        dob = None
        if rng.random() < 0.6:
            if rng.random() < 0.05:
                dob = date(rng.choice((1968, 1984, 1996, 2000, 2004)), 2, 29)
            else:
                dob = date(rng.randrange(1940, 2009), rng.randrange(1, 13), rng.randrange(1, 29))
        customer.fields.update(
            {
                "email": email,
                "firstname": self._maybe(0.95, locale.first_names[index]),
                "lastname": self._maybe(0.95, rng.choice(locale.last_names)),
                "middlename": self._maybe(0.1, rng.choice(locale.first_names)),
                "prefix": self._maybe(0.15, rng.choice(_PREFIXES)),
                "suffix": self._maybe(0.05, rng.choice(_SUFFIXES)),
                "dob": dob,
                # 4 is an option id a default install does not have (counted, gender left out).
                "gender": rng.choice((None, None, 1, 2, 3, 1, 2, 4)),
                "taxvat": self._maybe(0.05, f"TX{rng.randrange(10**8):08d}"),
                "store_id": _STORE_IDS[locale.website] if rng.random() < 0.9 else None,
                "group_id": customer.fields.get("group_id", rng.choice((1, 1, 1, 2, 3))),
                "created_in": self._maybe(0.8, f"{locale.store_view.upper()} Store View"),
                "is_active": rng.random() < 0.97,
                "default_billing": None,
                "default_shipping": None,
                "is_subscribed": rng.choice((None, True, False)),
                "custom_attributes": {"loyalty_tier": rng.choice(("bronze", "silver", "gold"))}
                if rng.random() < 0.2
                else {},
            }
        )

    def _add_address(self, customer: _Customer) -> None:
        rng = self._rng
        locale = customer.locale
        customer.next_address_id += 1
        city, region_name, region_code, postcode_prefix = rng.choice(locale.cities)
        lines = [f"{rng.choice(locale.streets)} {rng.randrange(1, 200)}"]
        for extra in ("Building B", "Floor 3", "Suite 12")[: rng.choice((0, 0, 0, 1, 1, 2, 3))]:
            lines.append(extra)
        country = locale.country
        if rng.random() < 0.02:
            # Alpha-3 instead of alpha-2: the mapper keeps the address without countryCode.
            country = {"US": "USA", "DE": "DEU", "FR": "FRA"}.get(country, country)
        region = None
        if region_name is not None or region_code is not None:
            region = {
                "region": region_name,
                "region_code": region_code,
                "region_id": rng.randrange(1, 600),
            }
        customer.addresses.append(
            {
                "id": customer.id * 10 + customer.next_address_id,
                "firstname": customer.fields.get("firstname") or locale.first_names[0],
                "lastname": customer.fields.get("lastname") or locale.last_names[0],
                "middlename": None,
                "prefix": None,
                "suffix": None,
                "company": self._maybe(0.1, "Example Trading"),
                "street": lines,
                "city": city,
                "region": region,
                "postcode": self._maybe(0.9, f"{postcode_prefix}{rng.randrange(1000):03d}"),
                "country_id": country,
                "telephone": locale.phone.format(n=rng.randrange(100)),
                "fax": None,
                "vat_id": None,
                "default_billing": False,
                "default_shipping": False,
            }
        )

    def _pick_defaults(self, customer: _Customer) -> None:
        ids = [address["id"] for address in customer.addresses]
        billing = self._rng.choice(ids) if ids and self._rng.random() < 0.9 else None
        shipping = self._rng.choice(ids) if ids and self._rng.random() < 0.8 else None
        if ids and self._rng.random() < 0.02:
            # A default id naming no address of the customer (counted by the mapper).
            shipping = max(ids) + 1000
        customer.fields["default_billing"] = billing
        customer.fields["default_shipping"] = shipping

    # --- poison ------------------------------------------------------------------------------

    def _poisoned(self, event: SampleEvent) -> SampleEvent:
        kinds: tuple[PoisonKind, ...] = BYTE_POISON
        if event.record_type != "CustomerDeleted":
            kinds = (*MAPPING_POISON, *MAPPING_POISON, *BYTE_POISON)
        kind = self._rng.choice(kinds)
        datum = event.datum
        poison: bytes | None = None
        if kind == "invalid_email":
            datum = {**datum, "customer": {**datum["customer"]}}
            datum["customer"]["email"] = self._rng.choice(_INVALID_EMAILS)
        elif kind == "empty_value":
            poison = b""
        elif kind == "unknown_magic":
            poison = b"{" + self._rng.randbytes(16)
        return SampleEvent(event.key, event.record_type, datum, kind, poison)


def _flag_defaults(customer: dict[str, Any]) -> None:
    # The address-level flags follow the customer-level ids, as Commerce derives them.
    for address in customer["addresses"]:
        address["default_billing"] = address["id"] == customer["default_billing"]
        address["default_shipping"] = address["id"] == customer["default_shipping"]


def generate_events(count: int, seed: int = 1, poison_share: float = 0.0) -> Iterator[SampleEvent]:
    """`count` events in the order they would be produced (per customer: created, updated...,
    maybe deleted); about `poison_share` of them poison."""
    if count < 0:
        raise ValueError("count must not be negative")
    if not 0.0 <= poison_share <= 1.0:
        raise ValueError("poison_share must be between 0 and 1")
    return _Generator(seed, poison_share).events(count)
