"""Sending a questionnaire link, after the transaction that issued it has committed.

Idempotent: the link is claimed (`sent_at`) before the message goes, so a retried or duplicated
task never sends a second SMS; a link already used or expired sends nothing. The message names
no questionnaire (titles are free text); the gateway ledgers the send (`notify.send`).
"""

from __future__ import annotations

import uuid

import structlog
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from careledger.notifications import gateway
from careledger.notifications.backends import NotificationError
from careledger.questionnaires import links
from careledger.questionnaires.models import ResponseLink
from careledger.request_context import RequestContext, bound, new_request_id

log = structlog.get_logger("careledger.questionnaires")


@shared_task(name="careledger.questionnaires.send_link")
def send_questionnaire_link(link_id: str, sealed_token: str, base_url: str) -> str:
    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        return _send(uuid.UUID(link_id), sealed_token, base_url)


def _send(link_id: uuid.UUID, sealed_token: str, base_url: str) -> str:
    now = timezone.now()
    with transaction.atomic():
        link = (
            ResponseLink.objects.select_for_update(of=("self",))
            .select_related("client")
            .filter(pk=link_id)
            .first()
        )
        if link is None:
            return "no_link"
        if link.sent_at is not None or link.used_at is not None or link.expires_at <= now:
            return "skipped"
        link.sent_at = now
        link.save(update_fields=["sent_at"])
        phone = link.client.phone
        client_id = link.client_id
        days = max(1, round((link.expires_at - now).total_seconds() / 86400))
    try:
        gateway.send(
            channel="sms",
            to=phone,
            template="questionnaire_link",
            params={
                "base": base_url,
                "token": links.open_token(link_id, sealed_token),
                "days": str(days),
            },
            client_id=client_id,
            purpose=links.PURPOSE,
        )
    except NotificationError:
        log.warning("questionnaire.link.undelivered", link_id=str(link_id))
        return "failed"
    return "sent"
