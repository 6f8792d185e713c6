"""The SMS-provider adapter against a real HTTP server on 127.0.0.1: signature, idempotency key,
retries with backoff on 5xx and timeouts, immediate refusal on 4xx. No database."""

from __future__ import annotations

import socket
import time

import pytest

from careledger.notifications.backends import (
    NotificationRejected,
    NotificationUnavailable,
    OutboundMessage,
)
from careledger.notifications.http_backend import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    HttpBackend,
    verify_signature,
)

from .factories import PHONE, outbound_message
from .sms_server import FakeProvider, Reply

KEY = "test-shared-secret"


@pytest.fixture
def provider():  # type: ignore[no-untyped-def]
    server = FakeProvider().start()
    yield server
    server.stop()


def message() -> OutboundMessage:
    return outbound_message(id="9f2c4e")


def backend(url: str, **kw) -> HttpBackend:  # type: ignore[no-untyped-def]
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", 2.0)
    return HttpBackend(url, KEY, **kw)


def test_a_message_is_posted_as_signed_json(provider) -> None:  # type: ignore[no-untyped-def]
    provider.script = [Reply(200, {"id": "prov-1"})]
    receipt = backend(provider.url).deliver(message())
    assert (receipt.status, receipt.attempts, receipt.provider_id) == ("accepted", 1, "prov-1")
    [request] = provider.received
    assert request.json == {
        "id": "9f2c4e",
        "channel": "sms",
        "to": PHONE,
        "template": "portal_login_code",
        "params": {"code": "042917"},
        "text": "【康链健康】您的客户门户登录验证码为042917",
    }
    assert request.headers["Idempotency-Key"] == "9f2c4e"
    timestamp = request.headers[TIMESTAMP_HEADER]
    assert abs(int(timestamp) - time.time()) < 60
    assert verify_signature(
        KEY.encode(), timestamp, request.body, request.headers[SIGNATURE_HEADER]
    )
    # The signature covers body and timestamp: a change to either, or another key, fails.
    assert not verify_signature(
        b"other-key", timestamp, request.body, request.headers[SIGNATURE_HEADER]
    )
    assert not verify_signature(
        KEY.encode(), str(int(timestamp) + 1), request.body, request.headers[SIGNATURE_HEADER]
    )
    assert not verify_signature(
        KEY.encode(), timestamp, request.body + b" ", request.headers[SIGNATURE_HEADER]
    )


def test_server_errors_are_retried_with_the_same_message_id(provider) -> None:  # type: ignore[no-untyped-def]
    provider.script = [Reply(503), Reply(502), Reply(200, {"id": "prov-3"})]
    receipt = backend(provider.url, attempts=3).deliver(message())
    assert receipt.attempts == 3 and receipt.provider_id == "prov-3"
    assert [r.headers["Idempotency-Key"] for r in provider.received] == ["9f2c4e"] * 3
    for request in provider.received:  # each attempt signs afresh
        assert verify_signature(
            KEY.encode(),
            request.headers[TIMESTAMP_HEADER],
            request.body,
            request.headers[SIGNATURE_HEADER],
        )


def test_backoff_grows_between_attempts(provider) -> None:  # type: ignore[no-untyped-def]
    provider.script = [Reply(500), Reply(500), Reply(500)]
    started = time.monotonic()
    with pytest.raises(NotificationUnavailable, match="3 attempts"):
        backend(provider.url, attempts=3, backoff=0.1).deliver(message())
    # Waits of about 0.1 s and 0.2 s (exponential) between three attempts.
    assert time.monotonic() - started >= 0.25
    assert len(provider.received) == 3


def test_a_client_error_is_a_clear_refusal_and_not_retried(provider) -> None:  # type: ignore[no-untyped-def]
    provider.script = [Reply(400, {"error": "invalid_template", "message": f"bad number {PHONE}"})]
    with pytest.raises(NotificationRejected) as refused:
        backend(provider.url, attempts=3).deliver(message())
    assert refused.value.status == 400
    assert refused.value.provider_code == "invalid_template"
    assert "HTTP 400" in str(refused.value) and PHONE not in str(refused.value)
    assert len(provider.received) == 1


def test_a_timeout_is_retried_then_reported(provider) -> None:  # type: ignore[no-untyped-def]
    provider.script = [Reply(200, delay=1.0), Reply(200, {"id": "late-but-ok"})]
    receipt = backend(provider.url, attempts=2, timeout=0.3).deliver(message())
    assert receipt.attempts == 2 and receipt.provider_id == "late-but-ok"


def test_an_unreachable_provider_is_reported_after_the_retries() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NotificationUnavailable, match="ConnectError"):
        backend(f"http://127.0.0.1:{port}/sms", attempts=2).deliver(message())


def test_the_backend_needs_a_url_and_a_key() -> None:
    with pytest.raises(ValueError, match="CARELEDGER_SMS_URL"):
        HttpBackend("", KEY)
    with pytest.raises(ValueError, match="CARELEDGER_SMS_KEY"):
        HttpBackend("http://127.0.0.1:9/sms", "")
