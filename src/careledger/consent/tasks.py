"""Delivering a consent confirmation code by SMS, after the request that asked for it.

Idempotent like the portal's sign-in delivery: the challenge is claimed (`sent_at`) before the
message goes, so a retried or duplicated task never sends twice; a used, burnt or expired
challenge sends nothing.
"""

from __future__ import annotations

import uuid

import structlog
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from careledger.consent import services
from careledger.consent.models import ConsentChallenge
from careledger.notifications import gateway
from careledger.notifications.backends import NotificationError
from careledger.portal import rules
from careledger.request_context import RequestContext, bound, new_request_id

log = structlog.get_logger("careledger.consent")


@shared_task(name="careledger.consent.deliver_consent_code")
def deliver_consent_code(challenge_id: str, sealed_code: str, request_id: str = "") -> str:
    with bound(RequestContext(request_id=request_id or new_request_id(), channel="task")):
        return _deliver(uuid.UUID(challenge_id), sealed_code)


def _deliver(challenge_id: uuid.UUID, sealed_code: str) -> str:
    now = timezone.now()
    with transaction.atomic():
        challenge = (
            ConsentChallenge.objects.select_for_update(of=("self",))
            .select_related("client")
            .filter(pk=challenge_id)
            .first()
        )
        if challenge is None:
            return "no_challenge"
        state = rules.challenge_state(
            expires_at=challenge.expires_at,
            used_at=challenge.used_at,
            burnt_at=challenge.burnt_at,
            now=now,
        )
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
            template="consent_code",
            params={"code": services.open_code(challenge_id, sealed_code)},
            client_id=client_id,
            purpose=services.PURPOSE,
        )
    except NotificationError:
        log.warning("consent.code.undelivered", challenge_id=str(challenge_id))
        return "failed"
    return "sent"
