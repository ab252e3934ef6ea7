"""The AEP streaming inlet client: one batch request, every answer classified.

Classification follows docs/DESIGN.md §6 "AEP answers" exactly; the pipeline decides what to do
with the result (retry with backoff, split, dead-letter, stop). Exceptions carry a message that
names the setting that is likely wrong and never personal data, a token or the secret.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from datetime import UTC
from pathlib import Path
from typing import Final

import httpx
import orjson
import structlog
from opentelemetry.trace import SpanKind

from consumer.aep.backoff import RETRY_AFTER_CAP_S
from consumer.aep.envelope import EnvelopeBuilder
from consumer.aep.ims import ImsUnavailable, TokenProvider
from consumer.aep.protocol import (
    Accepted,
    AepConfigurationFault,
    AepProtocolError,
    BatchResult,
    MessageOutcome,
    OutgoingRecord,
    Rejected,
    RetryMessage,
    RetryRequest,
    SendResult,
    SplitRequest,
)
from consumer.aep.refusals import answer_summary, refusal_detail
from consumer.aep.tls import aep_ssl_context, certificate_failure, untrusted_certificate
from consumer.config.settings import DeliverySettings, variable
from consumer.observability import tracing

__all__ = [
    "HttpInletSender",
    "batch_url",
    "make_http_client",
    "parse_retry_after",
]

_log = structlog.get_logger(__name__)

_INLET_URL: Final = variable("aep_inlet_url")
_FLOW_ID: Final = variable("aep_flow_id")
_DATASET_ID: Final = variable("aep_dataset_id")
_SCHEMA_ID: Final = variable("aep_schema_id")
_ORG_ID: Final = variable("aep_org_id")
_CREDENTIAL_HINT: Final = (
    f"check {variable('aep_client_id')}, {variable('aep_client_secret')}, {_ORG_ID} and "
    f"{variable('aep_sandbox')}, and that the credential's product profile may write to the inlet"
)
_COLLECTION: Final = re.compile(r"^(?P<base>.*/collection)/(?:batch/)?(?P<inlet>[^/]+)/?$")
# `<uuid>-<index>` (the shape AEP's Kafka sink relies on); a uuid's own last group is 12 hex.
_DASH_INDEX: Final = re.compile(r"-(\d{1,6})$")
# DCS prefixes per-message failures with the inlet and organisation: not an envelope complaint.
_DCS_PREFIX: Final = re.compile(r"^\s*inletId:\s*\[[^\]]*\]\s*imsOrgId:\s*\[[^\]]*\]\s*", re.I)
_BRACKETED: Final = re.compile(r"\[[^\]]*\]")
# A 4xx per-message answer naming a part of the envelope is our configuration, not the record.
_ENVELOPE_PARTS: Final[tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]] = (
    (re.compile(r"\bims ?org(?: ?id)?\b", re.I), (_ORG_ID,)),
    (re.compile(r"\bdatasets?(?: ?id)?\b", re.I), (_DATASET_ID,)),
    (re.compile(r"\b(?:data)?flows?(?: ?id)?\b", re.I), (_FLOW_ID,)),
    (
        re.compile(r"\bschema ?ref\b|\bxdm ?format\b|\bxdm ?meta\b|\bcontent ?type\b", re.I),
        (_SCHEMA_ID,),
    ),
)
# Named only when no part of it is: the message says the header is wrong but not which field.
_HEADER: Final = re.compile(r"\bheaders?\b", re.I)
_HEADER_SETTINGS: Final = (_SCHEMA_ID, _DATASET_ID, _FLOW_ID, _ORG_ID)
_MISMATCH_MEMORY: Final = 1024


def batch_url(inlet_url: str) -> str:
    """`…/collection/batch/{inletId}` from the inlet URL `…/collection/{inletId}`."""
    url = httpx.URL(inlet_url)
    match = _COLLECTION.match(url.path)
    if url.scheme not in ("http", "https") or not url.host or match is None:
        raise AepConfigurationFault(
            f"{_INLET_URL} is not a streaming inlet URL of the form "
            "https://<host>/collection/<inletId>"
        )
    return str(url.copy_with(path=f"{match['base']}/batch/{match['inlet']}", query=None))


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a `Retry-After` value (seconds or HTTP date), capped at
    `backoff.RETRY_AFTER_CAP_S`."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_S)


def make_http_client(
    delivery: DeliverySettings, ca_bundle: Path | None = None
) -> httpx.AsyncClient:
    """An HTTP client sized for the in-flight limit (plus IMS), with the request timeout,
    trusting `ca_bundle` (PROFILE_SYNC_AEP_CA_BUNDLE) or the public CAs."""
    connections = delivery.max_in_flight_requests + 2
    return httpx.AsyncClient(
        timeout=httpx.Timeout(delivery.aep_request_timeout_s),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        follow_redirects=False,
        verify=aep_ssl_context(ca_bundle),
    )


class HttpInletSender:
    """Sends batches to the AEP streaming inlet (`POST …/collection/batch/{inletId}`).

    Implements `consumer.aep.protocol.InletSender`. `send` returns a `BatchResult` (one outcome
    per record, in order), a `RetryRequest` or a `SplitRequest`, and raises
    `AepConfigurationFault` (exit 3) or `AepProtocolError` (exit 1). It never takes longer than
    `timeout_s` in all, token fetch and the one resend after a 401/403 included.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        tokens: TokenProvider,
        envelope: EnvelopeBuilder,
        *,
        inlet_url: str,
        org_id: str,
        api_key: str,
        sandbox: str,
        flow_id: str | None,
        timeout_s: float,
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._envelope = envelope
        self._url = batch_url(inlet_url)
        self._timeout_s = timeout_s
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "x-gw-ims-org-id": org_id,
            "x-api-key": api_key,
            "x-sandbox-name": sandbox,
        }
        if flow_id is not None:
            headers["x-adobe-flow-id"] = flow_id
        self._headers: Final = headers
        self._span_attributes: Final = tracing.http_client_attributes("POST", self._url)
        # Batches whose 207 could not be matched to their records once (retried once, then bug).
        self._mismatched: OrderedDict[Hashable, None] = OrderedDict()

    @property
    def url(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"HttpInletSender(url={self._url!r})"

    def request_size(self, records: Sequence[OutgoingRecord]) -> int:
        return self._envelope.request_size(records)

    def envelope_overhead(self) -> int:
        return self._envelope.envelope_overhead()

    def message_size(self, record: OutgoingRecord) -> int:
        """Exact bytes `record` adds to a body, separating comma included."""
        return self._envelope.message_size(record)

    async def send(self, records: Sequence[OutgoingRecord]) -> SendResult:
        if not records:
            return BatchResult([])
        body = self._envelope.body(records)
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._send(records, body)
        except TimeoutError:
            return RetryRequest("timeout", None, None)

    async def _send(self, records: Sequence[OutgoingRecord], body: bytes) -> SendResult:
        refreshed = False
        while True:
            try:
                token = await self._tokens.token()
            except ImsUnavailable as exc:
                return RetryRequest(exc.reason, exc.status, None)
            try:
                response = await self._post(body, token, tracing.RESEND_COUNT.get() + refreshed)
            except httpx.TimeoutException:
                return RetryRequest("timeout", None, None)
            except httpx.UnsupportedProtocol:
                raise AepConfigurationFault(
                    f"the inlet URL's scheme is not http(s): check {_INLET_URL}"
                ) from None
            except httpx.TransportError as exc:
                untrusted = certificate_failure(exc)
                if untrusted is not None:
                    raise AepConfigurationFault(
                        untrusted_certificate(self._url, untrusted)
                    ) from None
                return RetryRequest(f"connection_error ({type(exc).__name__})", None, None)
            status = response.status_code
            if status not in (401, 403):
                return self._classify(records, response)
            if refreshed:
                raise AepConfigurationFault(
                    f"AEP refused the inlet request with HTTP {status} after a token refresh: "
                    f"{_CREDENTIAL_HINT}"
                )
            _log.warning("aep_inlet_auth_refused_refreshing_token", status=status)
            self._tokens.invalidate(token)
            refreshed = True

    async def _post(self, body: bytes, token: str, resend_count: int) -> httpx.Response:
        """One HTTP attempt, as one client span (`http.request.resend_count` from the 2nd on)."""
        attributes = self._span_attributes
        if resend_count:
            attributes = {**attributes, "http.request.resend_count": resend_count}
        with tracing.TRACER.start_as_current_span(
            "POST", kind=SpanKind.CLIENT, attributes=attributes, record_exception=False
        ) as span:
            try:
                response = await self._client.post(
                    self._url,
                    content=body,
                    headers={**self._headers, "Authorization": f"Bearer {token}"},
                    timeout=self._timeout_s,
                )
            except (httpx.TransportError, TimeoutError) as exc:
                tracing.record_error(span, exc)
                raise
            tracing.record_status(span, response.status_code)
            return response

    def _classify(self, records: Sequence[OutgoingRecord], response: httpx.Response) -> SendResult:
        status = response.status_code
        if 200 <= status < 300:
            return self._batch_result(records, response)
        if status == 413:
            return SplitRequest()
        if status in (408, 429) or status >= 500:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RetryRequest(f"http_{status}", status, retry_after)
        if status == 404:
            raise AepConfigurationFault(
                f"AEP does not know the streaming inlet (HTTP 404): check {_INLET_URL}"
            )
        if 300 <= status < 400:
            raise AepConfigurationFault(
                f"AEP redirected the inlet request (HTTP {status}): check {_INLET_URL}"
            )
        raise AepProtocolError(
            f"AEP answered HTTP {status} to a batch request ({_answer_message(response)}); "
            "this is a bug in profile-sync, not in the records"
        )

    def _batch_result(
        self, records: Sequence[OutgoingRecord], response: httpx.Response
    ) -> SendResult:
        try:
            document = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return self._unmatched(records, "answer is not JSON")
        responses = document.get("responses") if isinstance(document, dict) else None
        if not isinstance(responses, list):
            return self._unmatched(records, "answer has no responses list")
        if len(responses) != len(records):
            return self._unmatched(records, f"{len(responses)} results for {len(records)} messages")
        batch_id = document.get("batchId")
        retry_after: float | None = None
        retry_after_read = False
        outcomes: list[MessageOutcome] = []
        for index, (record, entry) in enumerate(zip(records, responses, strict=True)):
            if not isinstance(entry, dict):
                return self._unmatched(records, "a result is not an object")
            xaction_id = entry.get("xactionId")
            if not isinstance(xaction_id, str):
                xaction_id = None
            elif not _index_agrees(xaction_id, index, batch_id):
                return self._unmatched(records, "xactionId index differs from the position")
            raw_status = entry.get("status", entry.get("statusCode"))
            entry_status = _status(raw_status)
            if entry_status is None and raw_status is not None:
                return self._unmatched(records, "a result's status is not a number")
            if entry_status is None or entry_status < 400:
                outcomes.append(Accepted(record.key, xaction_id))
                continue
            if entry_status == 429 or entry_status >= 500:
                if not retry_after_read:
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    retry_after_read = True
                outcomes.append(RetryMessage(record.key, entry_status, retry_after))
                continue
            message = entry.get("message")
            text = message if isinstance(message, str) else ""
            settings = _envelope_settings(text)
            if settings:
                raise AepConfigurationFault(
                    f"AEP refused the message envelope (status {entry_status}: "
                    f"{answer_summary(text)}): "
                    f"check {', '.join(settings)}"
                )
            # AEP's free text quotes the record's values: none of it is kept.
            outcomes.append(
                Rejected(record.key, entry_status, refusal_detail(entry_status, xaction_id, text))
            )
        if self._mismatched:
            self._mismatched.pop(_identity(records), None)
        return BatchResult(outcomes)

    def _unmatched(self, records: Sequence[OutgoingRecord], why: str) -> RetryRequest:
        identity = _identity(records)
        if identity in self._mismatched:
            del self._mismatched[identity]
            raise AepProtocolError(
                f"AEP's 207 answer cannot be matched to the batch twice in a row ({why})"
            )
        self._mismatched[identity] = None
        while len(self._mismatched) > _MISMATCH_MEMORY:
            self._mismatched.popitem(last=False)
        _log.warning("aep_207_unmatched_retrying", reason=why, messages=len(records))
        return RetryRequest("result_mismatch", 207, None)


def _identity(records: Sequence[OutgoingRecord]) -> Hashable:
    """The batch as a number: the remembered mismatches hold no reference to a record (a batch
    that is split or shrinks before its retry is never matched again, and would stay pinned)."""
    return (len(records), hash(tuple(id(record.key) for record in records)))


def _status(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _index_agrees(xaction_id: str, index: int, batch_id: object) -> bool:
    """False when the xactionId names a message index other than `index`."""
    if isinstance(batch_id, str) and batch_id and xaction_id.startswith(batch_id + ":"):
        suffix = xaction_id[len(batch_id) + 1 :]
        return not suffix.isdigit() or int(suffix) == index
    match = _DASH_INDEX.search(xaction_id)
    return match is None or int(match.group(1)) == index


def _envelope_settings(message: str) -> list[str]:
    """The settings a per-message 4xx message points at, empty when it is about the record."""
    # Bracketed parts are values (possibly personal data); only AEP's own words count.
    words = _BRACKETED.sub(" ", _DCS_PREFIX.sub("", message))
    found: list[str] = []
    for pattern, settings in _ENVELOPE_PARTS:
        if pattern.search(words):
            found.extend(s for s in settings if s not in found)
    if not found and _HEADER.search(words):
        found.extend(_HEADER_SETTINGS)
    return found


def _answer_message(response: httpx.Response) -> str:
    """What is kept of AEP's error text of a whole-request answer (its code and keyword)."""
    try:
        document = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return "no JSON body"
    if not isinstance(document, dict):
        return "no message"
    texts = [document.get(key) for key in ("message", "title", "detail", "error_description")]
    report = document.get("report")
    if isinstance(report, dict):
        texts.append(report.get("message"))
    return answer_summary(" ".join(t for t in texts if isinstance(t, str)))
