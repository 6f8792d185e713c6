"""The notification gateway: `send()` renders a template, delivers it, and ledgers the attempt.

Every message sent (or that failed to go) is an audit event, action `notify.send`, with the
channel, template, message id, backend and outcome, and the client it concerns, so a client's
"who looked at my record" page shows that the system wrote to them. The event never holds the
recipient or the text (ledger leaves carry no personal data).

The ledger event is committed in its own transaction after the delivery attempt: a send cannot
be rolled back, so its record must not be either. Callers that send because of a database change
should call `send()` after that change commits (`transaction.on_commit`, or a Celery task
enqueued there), never inside it.
"""

from __future__ import annotations

import uuid
from functools import lru_cache

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from careledger.clients import identifiers
from careledger.ledger import services as ledger
from careledger.notifications import messages
from careledger.notifications.backends import (
    Backend,
    ConsoleBackend,
    FileBackend,
    MessageReceipt,
    NotificationError,
    OutboundMessage,
)
from careledger.notifications.http_backend import HttpBackend

log = structlog.get_logger("careledger.notifications")

BACKENDS = ("console", "file", "http")


def build_backend(name: str) -> Backend:
    if name == "console":
        return ConsoleBackend(log, demo=settings.DEMO_MODE)
    if name == "file":
        return FileBackend(settings.CARELEDGER_OUTBOX_DIR)
    if name == "http":
        return HttpBackend(
            settings.CARELEDGER_SMS_URL,
            settings.CARELEDGER_SMS_KEY,
            timeout=settings.CARELEDGER_SMS_TIMEOUT,
            attempts=settings.CARELEDGER_SMS_ATTEMPTS,
            backoff=settings.CARELEDGER_SMS_BACKOFF,
        )
    raise ValueError(f"CARELEDGER_NOTIFY_BACKEND must be one of {BACKENDS}, not {name!r}")


@lru_cache(maxsize=4)
def _cached_backend(name: str, config_key: tuple[object, ...]) -> Backend:
    return build_backend(name)


def backend() -> Backend:
    """The configured backend (rebuilt when the settings change, as they do in tests)."""
    key = (
        settings.DEMO_MODE,
        str(settings.CARELEDGER_OUTBOX_DIR),
        settings.CARELEDGER_SMS_URL,
        settings.CARELEDGER_SMS_KEY,
        settings.CARELEDGER_SMS_TIMEOUT,
        settings.CARELEDGER_SMS_ATTEMPTS,
        settings.CARELEDGER_SMS_BACKOFF,
    )
    return _cached_backend(settings.CARELEDGER_NOTIFY_BACKEND, key)


def _recipient(channel: str, to: str) -> str:
    if channel == messages.SMS:
        try:
            return identifiers.normalise_mobile(to)
        except identifiers.IdentifierError as exc:
            raise messages.TemplateError(f"not a mobile number ({exc.code})") from None
    raise messages.TemplateError(f"unknown channel {channel!r}")


def _ledger(message: OutboundMessage, outcome: str, **detail: object) -> None:
    with transaction.atomic():
        ledger.record(
            actor=ledger.SYSTEM,
            action="notify.send",
            outcome=outcome,
            purpose=message.purpose,
            client_id=message.client_id,
            resource_type="Message",
            resource_id=message.id,
            detail={"channel": message.channel, "template": message.template, **detail},
        )


def send(
    *,
    channel: str,
    to: str,
    template: str,
    params: dict[str, str],
    client_id: str | uuid.UUID | None = None,
    purpose: str,
) -> MessageReceipt:
    """Send one templated message; raises `TemplateError` (nothing sent, nothing ledgered: a
    programming error) or `NotificationError` (delivery failed; the failure is ledgered)."""
    spec = messages.get(template)
    text = spec.render(channel, params)
    message = OutboundMessage(
        id=uuid.uuid4().hex,
        channel=channel,
        to=_recipient(channel, to),
        template=template,
        text=text,
        params=dict(params),
        client_id=str(client_id or ""),
        purpose=purpose,
        created_at=timezone.now(),
        demo_params={k: params[k] for k in spec.demo_visible},
    )
    chosen = backend()
    try:
        receipt = chosen.deliver(message)
    except NotificationError as exc:
        _ledger(message, ledger.Outcome.FAILED, backend=chosen.name, error=exc.code)
        log.warning(
            "notify.failed",
            message_id=message.id,
            template=template,
            backend=chosen.name,
            error=exc.code,
        )
        raise
    _ledger(
        message,
        ledger.Outcome.ALLOWED,
        backend=chosen.name,
        attempts=receipt.attempts,
        status=receipt.status,
    )
    return receipt
