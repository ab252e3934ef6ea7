from __future__ import annotations

from typing import Any

import orjson

from consumer.operations.masking import mask_email, mask_event, mask_text, plain
from devenv.sample_events import generate_events


def test_email_keeps_first_letters_and_top_level_domain() -> None:
    assert mask_email("john.doe@example.com") == "j***@e***.com"
    assert mask_email("  JOHN@mail.example.org ") == "J***@m***.org"
    assert mask_email("a@b.c") == "***@***.c"
    assert mask_email("no-at-sign.example.com") == "n***"


def test_names_keep_their_first_letter() -> None:
    assert mask_text("Maria") == "M***"
    assert mask_text("Ёж") == "Ё***"
    assert mask_text("X") == "***"


PERSONAL = frozenset(
    {
        "email",
        "firstname",
        "lastname",
        "middlename",
        "taxvat",
        "street",
        "city",
        "postcode",
        "telephone",
        "company",
        "vat_id",
        "fax",
    }
)


def personal_strings(value: Any, name: str = "") -> list[str]:
    """The e-mails, names, streets, phones, ... of an event (two characters or more)."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found.extend(personal_strings(v, k))
    elif isinstance(value, list):
        for v in value:
            found.extend(personal_strings(v, name))
    elif isinstance(value, str) and len(value.strip()) > 1 and name in PERSONAL:
        found.append(value.strip())
    return found


def test_masked_sample_events_hold_none_of_their_personal_strings() -> None:
    checked = 0
    for event in generate_events(300, seed=7, poison_share=0.1):
        masked = orjson.dumps(plain(mask_event(event.datum))).decode()
        for text in personal_strings(event.datum):
            assert text not in masked, text
            checked += 1
        customer = event.datum.get("customer")
        if customer is not None:
            kept = orjson.loads(masked)["customer"]
            assert kept["id"] == customer["id"]
            assert kept["updated_at"] == plain(customer["updated_at"])
        assert orjson.loads(masked)["event_id"] == event.datum["event_id"]
    assert checked > 1000


def test_dates_and_numbers_outside_the_allow_list_are_masked() -> None:
    event = {
        "event_id": "e1",
        "customer": {
            "id": 7,
            "dob": "1990-01-02",
            "gender": 2,
            "custom_attributes": {"tier": "gold"},
        },
    }
    masked = mask_event(event)
    assert masked["customer"] == {
        "id": 7,
        "dob": "1***",
        "gender": "***",
        "custom_attributes": {"tier": "g***"},
    }
