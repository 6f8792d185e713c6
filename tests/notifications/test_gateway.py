"""The gateway: renders a template, delivers through the configured backend, ledgers the send
(channel, template, client, outcome; never the number or the text)."""

from __future__ import annotations

import json
import logging

import pytest

from careledger.ledger.models import LedgerEntry
from careledger.notifications import gateway
from careledger.notifications.backends import NotificationRejected, read_outbox
from careledger.notifications.messages import TemplateError

from .sms_server import FakeProvider, Reply

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


@pytest.fixture
def file_backend(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.CARELEDGER_NOTIFY_BACKEND = "file"
    settings.CARELEDGER_OUTBOX_DIR = tmp_path / "outbox"
    return tmp_path / "outbox" / "sms.jsonl"


def sends() -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(action="notify.send"))


def send(**overrides):  # type: ignore[no-untyped-def]
    """A login-code SMS through the gateway; `overrides` replace any of `send()`'s arguments."""
    kwargs = {
        "channel": "sms",
        "to": PHONE,
        "template": "portal_login_code",
        "params": {"code": "123456"},
        "purpose": "portal_login",
        **overrides,
    }
    return gateway.send(**kwargs)


def test_a_send_is_delivered_and_ledgered_without_number_or_text(file_backend) -> None:  # type: ignore[no-untyped-def]
    receipt = send(
        to="+86 139-1234-5678",
        params={"code": "042917"},
        client_id="0b7d4c0e-0000-4000-8000-000000000001",
    )
    [message] = read_outbox(file_backend)
    assert message["to"] == PHONE  # normalised
    assert message["id"] == receipt.message_id
    [entry] = sends()
    assert entry.outcome == "allowed"
    assert entry.client_id == "0b7d4c0e-0000-4000-8000-000000000001"
    leaf = json.loads(entry.leaf)
    assert leaf["detail"] == {
        "channel": "sms",
        "template": "portal_login_code",
        "backend": "file",
        "attempts": 1,
        "status": "written",
        "policy": "block",
        "findings": [],
    }
    assert leaf["resource"] == {"type": "Message", "id": receipt.message_id}
    assert leaf["purpose"] == "portal_login"
    assert PHONE not in entry.leaf and "042917" not in entry.leaf and "验证码" not in entry.leaf


def test_a_bad_template_call_sends_nothing_and_ledgers_nothing(file_backend) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TemplateError):
        send(params={"code": "hello"})
    with pytest.raises(TemplateError):
        send(to="12345")
    assert read_outbox(file_backend) == [] and sends() == []


def test_a_refused_send_is_ledgered_as_failed(settings) -> None:  # type: ignore[no-untyped-def]
    provider = FakeProvider(script=[Reply(403, {"error": "quota"})]).start()
    try:
        settings.CARELEDGER_NOTIFY_BACKEND = "http"
        settings.CARELEDGER_SMS_URL = provider.url
        settings.CARELEDGER_SMS_KEY = "k"
        settings.CARELEDGER_SMS_BACKOFF = 0.01
        with pytest.raises(NotificationRejected):
            send(client_id="c")
    finally:
        provider.stop()
    [entry] = sends()
    assert entry.outcome == "failed"
    assert json.loads(entry.leaf)["detail"]["error"] == "rejected"
    assert PHONE not in entry.leaf


def test_the_console_backend_keeps_the_number_out_of_the_log(settings, caplog) -> None:  # type: ignore[no-untyped-def]
    settings.CARELEDGER_NOTIFY_BACKEND = "console"
    settings.DEMO_MODE = True
    caplog.set_level(logging.DEBUG)
    send(params={"code": "042917"})
    lines = [str(r.msg) + r.getMessage() for r in caplog.records]
    assert any("042917" in line for line in lines)  # demo mode: the developer sees the code
    assert not any(PHONE in line for line in lines)
    caplog.clear()
    settings.DEMO_MODE = False
    send(params={"code": "042918"})
    lines = [str(r.msg) + r.getMessage() for r in caplog.records]
    assert lines and not any("042918" in line or PHONE in line for line in lines)


def test_an_unknown_backend_name_is_a_clear_error(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CARELEDGER_NOTIFY_BACKEND = "pigeon"
    with pytest.raises(ValueError, match="CARELEDGER_NOTIFY_BACKEND"):
        send()
