"""AEP refusals that quote personal data in every style, through the real HTTP inlet client, the
batch and send steps and the dead-letter header building: none of it reaches a header."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import httpx
import orjson

from consumer.aep.envelope import EnvelopeBuilder
from consumer.aep.inlet_client import HttpInletSender
from consumer.kafka.dead_letters import dead_letter_headers
from tests.consumer.pipeline.delivery_harness import delivery
from tests.consumer.pipeline.fakes import ScriptedSender, make_record

# Ten people; every refusal quotes one person's name, phone and e-mail.
PEOPLE = [
    ("Zedleak Quorn", "+1 555 0199", "zedleak.quorn@example.com"),
    ("Ørjan Vølund", "+47 912 34 567", "orjan.volund@example.no"),
    ("Jürgen Weiß", "0711 9876543", "jürgen.weiß@exämple.de"),
    ("Мария Иванова", "+7 495 123-45-67", "мария@пример.рф"),
    ("山田 太郎", "03-1234-5678", "taro.yamada@example.jp"),
    ("Σοφία Παππά", "+30 21 0123 4567", "sofia.pappa@example.gr"),
    ("عمر الكعبي", "+971 4 555 0173", "omar.alkaabi@example.ae"),
    ("O'Brien Dáithí", "(01) 555-0123", "obrien@example.ie"),
    ("Ana-Lucía Núñez", "+34 612 34 56 78", "ana.lucia+news@example.es"),
    ('Li "Leo" Wei', "+86 10 5555 0000", "li.wei@example.cn"),
]
# AEP's wordings, with the values quoted in every style seen (and not quoted at all).
STYLES = [
    "string [{email}] is not a valid email",
    'XDM-1001-400 value "{name}" refused, phone "{phone}"',
    "value '{name}' with phone '{phone}' refused",
    "value `{name}` `{phone}` `{email}` refused",
    "value \u201c{name}\u201d \u201c{phone}\u201d does not match pattern ^[A-Z]+$",
    "value ({name}) ({phone}) ({email}) refused",
    "value \u00ab{name}\u00bb \u2018{email}\u2019 \u201e{phone}\u201c is not a valid enum value",
    "expected a phone number but got {phone} for {name} <{email}>",
    "personalEmail.address={email} person.name.fullName={name} phone={phone}",
    "DCVS-1106-400: {name} {phone} {email} keyword: pattern",
    "required key [{name}] not found; {{{email}}} {{{phone}}}",
    "value \\u0022{name}\\u0022 \\u0022{email}\\u0022 refused",
]
KEPT_CODES = {1: "XDM-1001-400", 9: "DCVS-1106-400"}
KEPT_KEYWORDS = {0: "format", 4: "pattern", 6: "enum", 9: "pattern", 10: "required"}
REFUSALS = 40


def _message(n: int) -> tuple[str, tuple[str, str, str]]:
    person = PEOPLE[n % len(PEOPLE)]
    name, phone, email = person
    return STYLES[n % len(STYLES)].format(name=name, phone=phone, email=email), person


def _inlet(request: httpx.Request) -> httpx.Response:
    body = orjson.loads(request.content)
    answers: list[dict[str, Any]] = []
    for index, message in enumerate(body["messages"]):
        n = orjson.loads(orjson.dumps(message["body"]["xdmEntity"]))["n"]
        text, _ = _message(n)
        answers.append({"xactionId": f"b-1:{index}", "status": 400, "message": text})
    return httpx.Response(207, json={"batchId": "b-1", "responses": answers})


def _sender() -> HttpInletSender:
    envelope = EnvelopeBuilder(
        schema_id="https://ns.adobe.com/t/schemas/s1",
        org_id="ORG@AdobeOrg",
        dataset_id="ds-1",
        flow_id="flow-1",
    )
    return HttpInletSender(
        httpx.AsyncClient(transport=httpx.MockTransport(_inlet)),
        _Tokens(),
        envelope,
        inlet_url="https://dcs.test/collection/abc123",
        org_id="ORG@AdobeOrg",
        api_key="client-1",
        sandbox="dev",
        flow_id="flow-1",
        timeout_s=5.0,
    )


class _Tokens:
    async def token(self) -> str:
        return "token"

    def invalidate(self, token: str) -> None:
        pass


def _traces(person: tuple[str, str, str]) -> set[str]:
    """Every piece of the person's data that would betray them: name parts, phone digit runs,
    e-mail local part and domain."""
    name, phone, email = person
    pieces = {part.strip("'\"") for part in name.split()} | {name}
    digits = "".join(ch for ch in phone if ch.isdigit())
    pieces |= {digits[i : i + 4] for i in range(len(digits) - 3)}
    local, _, domain = email.partition("@")
    pieces |= {local, domain, email}
    return {p.lower() for p in pieces if len(p) >= 3}


def test_no_personal_data_from_aep_reaches_a_dead_letter_header() -> None:
    sender = _sender()
    # The harness calls only the InletSender protocol on the sender it is given.
    with delivery(cast(ScriptedSender, sender), max_records=7) as d:
        for n in range(REFUSALS):
            d.batch.submit(make_record(n, customer=n, entity=orjson.dumps({"n": n})))
        d.settle()
    assert sorted(d.dead.offsets) == list(range(REFUSALS))
    leaks: dict[int, list[str]] = {}
    written: dict[int, dict[str, str]] = {}
    for record, reason in d.dead.items:
        n = record.offset
        _, person = _message(n)
        headers = dead_letter_headers(record, reason, datetime(2026, 12, 1, tzinfo=UTC))
        ours = {name: value.decode() for name, value in headers[1:] if value is not None}
        text = " ".join(ours.values()).lower()
        leaked = sorted(t for t in _traces(person) if t in text)
        if leaked:
            leaks[n] = leaked
        written[n] = ours
    assert not leaks
    for n, ours in written.items():
        # Only what is not free text is kept: status, xactionId, error code and keyword.
        detail = orjson.loads(ours["profile_sync.error.detail"])
        expected: dict[str, object] = {"status": 400}
        if n % len(STYLES) in KEPT_CODES:
            expected["code"] = KEPT_CODES[n % len(STYLES)]
        if n % len(STYLES) in KEPT_KEYWORDS:
            expected["keyword"] = KEPT_KEYWORDS[n % len(STYLES)]
        assert {k: v for k, v in detail.items() if k != "xactionId"} == expected
        assert str(detail["xactionId"]).startswith("b-1:")
        assert ours["profile_sync.error.class"] == "deliver.aep_rejected"
