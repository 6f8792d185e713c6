"""The notification gateway: `send()` renders a template, delivers it, and ledgers the attempt.

Every message sent (or that failed to go) is an audit event, action `notify.send`, with the
channel, template, message id, backend and outcome, and the client it concerns, so a client's
"who looked at my record" page shows that the system wrote to them. The event never holds the
recipient or the text (ledger leaves carry no personal data).

Before delivery the rendered text goes through the outbound check (`outbound.check`: citizen
ids, phone numbers, bank cards, addresses, other clients' names). Under the `block` policy a
message with a finding is not delivered: `SensitiveDataBlocked` is raised and the event's
outcome is `denied`; under `warn` it is delivered. Either way the event lists the findings
(kind, span, client id; never the value).

The ledger event is committed in its own transaction after the delivery attempt: a send cannot
be rolled back, so its record must not be either. Callers that send because of a database change
should call `send()` after that change commits (`transaction.on_commit`, or a Celery task
enqueued there), never inside it.
"""

from __future__ import annotations

import re
import uuid
from functools import lru_cache

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from careledger.clients import identifiers
from careledger.ledger import services as ledger
from careledger.notifications import messages, outbound
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
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


class SensitiveDataBlocked(NotificationError):
    """The outbound check found personal data and the policy is `block`: nothing was sent."""

    code = "sensitive_data"

    def __init__(self, verdict: outbound.Verdict) -> None:
        kinds = ", ".join(f"{k} ×{n}" for k, n in verdict.kinds().items())
        super().__init__(f"message not sent: it contains sensitive data ({kinds})")
        self.verdict = verdict


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
    programming error), `SensitiveDataBlocked` (the outbound check refused it; ledgered as
    denied) or `NotificationError` (delivery failed; the failure is ledgered)."""
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
    verdict = outbound.check(
        text=text, client_id=message.client_id, fixed=_PLACEHOLDER.sub(" ", spec.text)
    )
    checked: dict[str, object] = {"policy": verdict.policy, "findings": verdict.audit()}
    if verdict.blocked:
        _ledger(message, ledger.Outcome.DENIED, backend=chosen.name, error="sensitive_data",
                **checked)  # fmt: skip
        log.warning("notify.blocked", message_id=message.id, template=template,
                    kinds=verdict.kinds())  # fmt: skip
        raise SensitiveDataBlocked(verdict)
    if verdict.findings:
        log.warning("notify.sensitive_data_sent", message_id=message.id, template=template,
                    kinds=verdict.kinds(), policy=verdict.policy)  # fmt: skip
    try:
        receipt = chosen.deliver(message)
    except NotificationError as exc:
        _ledger(message, ledger.Outcome.FAILED, backend=chosen.name, error=exc.code, **checked)
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
        **checked,
    )
    return receipt
