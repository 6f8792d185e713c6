"""A generic SMS-provider adapter: signed JSON over HTTPS. Pure: no Django.

Chinese SMS providers (and the in-house relays that front them) differ in their APIs; rather than
bind the system to one, the gateway speaks one small, documented contract and a provider-specific
relay (or a provider that accepts webhooks) translates:

    POST CARELEDGER_SMS_URL
    Content-Type: application/json
    Idempotency-Key: <message id>            same id on every retry: the relay must deduplicate
    X-CareLedger-Timestamp: <unix seconds>
    X-CareLedger-Signature: sha256=<hex HMAC-SHA256(key, timestamp + "." + body)>

    {"id", "channel", "to", "template", "params", "text"}

The signature covers the timestamp, so a captured request cannot be replayed later (the relay
should refuse timestamps more than a few minutes old). A 2xx answer is success (`{"id": ...}`
in the body, if present, is the provider's message id); 5xx answers, timeouts and connection
errors are retried with exponential backoff (tenacity), and the message keeps its id so a retry
after a lost answer is not a second SMS; a 4xx answer is a permanent refusal and is raised at
once as `NotificationRejected` with the status and the provider's error code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

import httpx
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from careledger.notifications.backends import (
    MessageReceipt,
    NotificationRejected,
    NotificationUnavailable,
    OutboundMessage,
)

SIGNATURE_HEADER = "X-CareLedger-Signature"
TIMESTAMP_HEADER = "X-CareLedger-Timestamp"


class _ServerError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def signature(key: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for a request body sent at `timestamp`."""
    mac = hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(key: bytes, timestamp: str, body: bytes, header: str) -> bool:
    """For relays written in Python (and the tests): constant-time comparison."""
    return hmac.compare_digest(signature(key, timestamp, body), header)


class HttpBackend:
    name = "http"

    def __init__(
        self,
        url: str,
        key: str,
        *,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.5,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url:
            raise ValueError("the http notification backend needs CARELEDGER_SMS_URL")
        if not key:
            raise ValueError("the http notification backend needs CARELEDGER_SMS_KEY")
        self.url = url
        self.key = key.encode("utf-8")
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 3.0))
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.clock = clock
        self.transport = transport

    def body(self, message: OutboundMessage) -> bytes:
        payload = {
            "id": message.id,
            "channel": message.channel,
            "to": message.to,
            "template": message.template,
            "params": message.params,
            "text": message.text,
        }
        return json.dumps(
            payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        ).encode()

    def _post_once(self, client: httpx.Client, message: OutboundMessage, body: bytes) -> str:
        timestamp = str(int(self.clock()))
        response = client.post(
            self.url,
            content=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": message.id,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(self.key, timestamp, body),
            },
        )
        if response.status_code >= 500:
            raise _ServerError(response.status_code)
        if response.status_code >= 400:
            raise NotificationRejected(response.status_code, _provider_code(response))
        if response.status_code >= 300:
            # Redirects are not followed (a redirect could carry the message elsewhere).
            raise NotificationRejected(response.status_code, "redirect")
        return _provider_id(response)

    def deliver(self, message: OutboundMessage) -> MessageReceipt:
        body = self.body(message)
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff, min=self.backoff, max=30 * self.backoff),
            retry=retry_if_exception_type((_ServerError, httpx.TransportError)),
        )
        attempts = 0
        with httpx.Client(
            timeout=self.timeout, follow_redirects=False, transport=self.transport
        ) as client:
            try:
                for attempt in retrying:
                    with attempt:
                        attempts = attempt.retry_state.attempt_number
                        provider_id = self._post_once(client, message, body)
            except RetryError as exc:
                last = exc.last_attempt.exception()
                reason = (
                    f"HTTP {last.status}" if isinstance(last, _ServerError) else type(last).__name__
                )
                raise NotificationUnavailable(
                    f"SMS provider unavailable after {attempts} attempts ({reason})"
                ) from last
        return MessageReceipt(
            message.id,
            message.channel,
            message.template,
            self.name,
            "accepted",
            attempts,
            provider_id,
        )


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _provider_code(response: httpx.Response) -> str:
    # Only a short code: a provider's message may echo the recipient back.
    data = _json(response)
    code = data.get("error") or data.get("code") or ""
    return str(code)[:40]


def _provider_id(response: httpx.Response) -> str:
    return str(_json(response).get("id") or "")[:100]
