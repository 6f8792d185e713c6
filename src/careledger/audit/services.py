"""Break-glass (紧急访问): opening a record outside one's care teams in an emergency, and the
auditor's review of it.

`do_open_break_glass` asks the one policy (`Action.BREAK_GLASS`: a clinical role, the client's
own institution, not already in the care team), needs a reason, grants read access to that one
client for a limited time, ledgers the grant and raises a high-severity alert in the same
transaction. The view in front of it asks for a fresh MFA code first (step-up). Every read made
under the grant is ledgered with the purpose "emergency" by the selectors (the policy's decision
says so). An auditor then signs the grant off as justified or not (`do_review_break_glass`),
seeing every ledger event the user produced on that client during the grant.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.access.enforce import actor_of, refuse, require
from careledger.access.models import BreakGlassGrant, ReviewStatus
from careledger.access.policy import ClientScope, deny
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.audit.models import Alert, AlertRule, AlertStatus, Severity
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.clients.validation import ValidationFailed
from careledger.ledger import services as ledger

REASON_MIN = 8
REASON_MAX = 1000


def duration_choices() -> list[int]:
    longest = settings.CARELEDGER_BREAK_GLASS_MAX_MINUTES
    return [m for m in (15, 30, 60, 120, 240) if m <= longest] or [longest]


def check_break_glass(*, actor: User, client: Client) -> ClientScope:
    scope = client_scope(client)
    require(actor, Action.BREAK_GLASS, scope, purpose="emergency")
    return scope


def _validate(reason: str, minutes: int) -> str:
    errors: dict[str, list[str]] = {}
    reason = reason.strip()
    if len(reason) < REASON_MIN:
        errors["reason"] = [
            _("Give the reason in at least %(n)d characters: the auditor reviews it.")
            % {"n": REASON_MIN}
        ]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("At most %(n)d characters.") % {"n": REASON_MAX}]
    if minutes not in duration_choices():
        errors["minutes"] = [_("Choose one of the offered durations.")]
    if errors:
        raise ValidationFailed(errors)
    return reason


def do_open_break_glass(
    *, actor: User, client_id: uuid.UUID, reason: str, minutes: int
) -> BreakGlassGrant:
    client = Client.objects.get(pk=client_id)
    check_break_glass(actor=actor, client=client)
    reason = _validate(reason, minutes)
    now = timezone.now()
    with transaction.atomic():
        grant = BreakGlassGrant(
            institution_id=client.institution_id,
            user=actor,
            client_id=client.id,
            reason=reason,
            minutes=minutes,
            granted_at=now,
            expires_at=now + dt.timedelta(minutes=minutes),
        )
        grant.save(force_insert=True)
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.BREAK_GLASS),
            purpose="emergency",
            client_id=str(client.id),
            resource_type="BreakGlassGrant",
            resource_id=str(grant.id),
            detail={"minutes": minutes},
        )
        Alert.objects.create(
            institution_id=client.institution_id,
            rule=AlertRule.BREAK_GLASS,
            severity=Severity.HIGH,
            subject_user=actor,
            subject_key=str(grant.id),
            window_start=grant.granted_at,
            window_end=grant.expires_at,
            detail={"grant": str(grant.id), "client": str(client.id), "role": actor.role},
        )
    return grant


def check_review(*, actor: User, grant: BreakGlassGrant) -> None:
    """Auditors of the grant's institution review it; nobody reviews their own grant."""
    require(actor, Action.BREAK_GLASS_REVIEW, purpose="oversight")
    reason = ""
    if grant.institution_id != actor.institution_id:
        reason = "other_institution"
    elif grant.user_id == actor.id:
        reason = "own_grant"
    if reason:
        raise refuse(
            actor,
            Action.BREAK_GLASS_REVIEW,
            deny(reason),
            client_id=str(grant.client_id),
            purpose="oversight",
        )


def do_review_break_glass(
    *, actor: User, grant_id: uuid.UUID, verdict: str, note: str
) -> BreakGlassGrant:
    if verdict not in (ReviewStatus.JUSTIFIED, ReviewStatus.UNJUSTIFIED):
        raise ValidationFailed({"verdict": [_("Choose justified or not justified.")]})
    note = note.strip()
    if verdict == ReviewStatus.UNJUSTIFIED and not note:
        raise ValidationFailed({"note": [_("Say why the access was not justified.")]})
    with transaction.atomic():
        grant = BreakGlassGrant.objects.select_for_update().get(pk=grant_id)
        check_review(actor=actor, grant=grant)
        if grant.review_status != ReviewStatus.PENDING:
            raise ValidationFailed({"verdict": [_("This grant has already been reviewed.")]})
        grant.review_status = verdict
        grant.reviewed_by = actor
        grant.reviewed_at = timezone.now()
        grant.review_note = note
        grant.save(update_fields=["review_status", "reviewed_by", "reviewed_at", "review_note"])
        Alert.objects.filter(rule=AlertRule.BREAK_GLASS, subject_key=str(grant.id)).update(
            status=AlertStatus.CLOSED, handled_by=actor, handled_at=grant.reviewed_at
        )
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.BREAK_GLASS_REVIEW),
            purpose="oversight",
            client_id=str(grant.client_id),
            resource_type="BreakGlassGrant",
            resource_id=str(grant.id),
            detail={"verdict": verdict},
        )
    return grant


def do_handle_alert(*, actor: User, alert_id: uuid.UUID, status: str, note: str) -> Alert:
    """Acknowledge or close an alert (a break-glass alert closes with its grant's review)."""
    require(actor, Action.ALERT_MANAGE, purpose="oversight")
    if status not in (AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED):
        raise ValidationFailed({"status": [_("Choose acknowledge or close.")]})
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(
            pk=alert_id, institution_id=actor.institution_id
        )
        alert.status = status
        alert.handled_by = actor
        alert.handled_at = timezone.now()
        if note.strip():
            alert.note = note.strip()[:REASON_MAX]
        alert.save(update_fields=["status", "handled_by", "handled_at", "note"])
        ledger.record(
            actor=actor_of(actor),
            action="audit.alert.handle",
            purpose="oversight",
            resource_type="Alert",
            resource_id=str(alert.id),
            detail={"status": status, "rule": alert.rule},
        )
    return alert
