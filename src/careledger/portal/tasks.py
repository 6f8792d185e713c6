"""Delivering a sign-in code, after the request that asked for it has been answered.

Idempotent: the challenge is claimed (`sent_at`) before the message goes, so a retried or
duplicated task never sends a second SMS; a challenge with no client (the number is not
registered), or that is already used, burnt or expired, sends nothing.
"""

from __future__ import annotations

import uuid

import structlog
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from careledger.notifications import gateway
from careledger.notifications.backends import NotificationError
from careledger.portal import rules, services
from careledger.portal.models import LoginChallenge
from careledger.request_context import RequestContext, bound, new_request_id

log = structlog.get_logger("careledger.portal")


@shared_task(name="careledger.portal.deliver_login_code")
def deliver_login_code(challenge_id: str, sealed_code: str, request_id: str = "") -> str:
    with bound(RequestContext(request_id=request_id or new_request_id(), channel="task")):
        return _deliver(uuid.UUID(challenge_id), sealed_code)


def _deliver(challenge_id: uuid.UUID, sealed_code: str) -> str:
    now = timezone.now()
    with transaction.atomic():
        challenge = (
            LoginChallenge.objects.select_for_update(of=("self",))  # not the nullable client
            .select_related("client")
            .filter(pk=challenge_id)
            .first()
        )
        if challenge is None or challenge.client is None:
            return "no_recipient"
        state = challenge.state(now)
        if challenge.sent_at is not None or state != rules.OPEN:
            return "skipped"
        challenge.sent_at = now
        challenge.save(update_fields=["sent_at"])
        phone = challenge.client.phone
        client_id = challenge.client_id
    try:
        gateway.send(
            channel="sms",
            to=phone,
            template="portal_login_code",
            params={"code": services.open_code(challenge_id, sealed_code)},
            client_id=client_id,
            purpose=services.PURPOSE,
        )
    except NotificationError:
        # Ledgered by the gateway; the person asks again after the one-minute interval.
        log.warning("portal.code.undelivered", challenge_id=str(challenge_id))
        return "failed"
    return "sent"
