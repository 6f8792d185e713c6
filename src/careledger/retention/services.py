"""Retention and erasure: the nightly run, legal holds, archive reads with a reason, and the
two-step erasure that crypto-shreds a client's data key.

Shredding (`_shred`, used by erasure and by anonymisation) destroys every version of the
client's data key (`crypto.keyring.destroy`): every value sealed under it — registry fields,
revisions, record entries, notes, answers — stays in the database and in every backup as
ciphertext that no longer opens. The registry row is then made unlinkable too: its sealed
fields and card numbers are blanked, its blind indexes replaced by random values (so the person
can enrol again, and nobody can find the old row by ID number or phone), and the birth date cut
to the year. The row change is sealed in the ledger like any registry write, so `careledger
ledger verify` passes afterwards; the ledger itself never held a plaintext identifier, so
nothing in it needs to change.

Erasure is two-step: a member of the client's care team requests it with a PIPL Art. 47 ground;
an institution admin or the security officer — never the requester — approves (which executes
at once) or rejects. A legal hold stops approval and every retention action.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from careledger.access.enforce import actor_of, refuse, require
from careledger.access.policy import deny
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import ArchiveAccess, Client, ClientStatus, MembershipCard
from careledger.clients.services import client_scope
from careledger.clients.validation import ValidationFailed
from careledger.consent.models import Consent
from careledger.crypto import keyring
from careledger.crypto.models import KeyScope
from careledger.institutions.models import Institution
from careledger.ledger import services as ledger
from careledger.ledger.models import LedgerEntry
from careledger.retention import rules
from careledger.retention.models import (
    ErasureGround,
    ErasureRequest,
    ErasureStatus,
    LegalHold,
    RetentionPolicy,
    RetentionRun,
)

PURPOSE = "retention"
CHUNK = 1000
MIN_REASON = 4
MAX_TEXT = 500
ARCHIVE_ACCESS_MINUTES = (15, 60, 240)
RETAINED = (ClientStatus.ACTIVE, ClientStatus.INACTIVE, ClientStatus.ARCHIVED)


def _text(value: str, field: str, *, required: bool) -> str:
    value = " ".join((value or "").split())
    if required and len(value) < MIN_REASON:
        raise ValidationFailed({field: ["required"]})
    if len(value) > MAX_TEXT:
        raise ValidationFailed({field: ["too_long"]})
    return value


def _same_institution(actor: User, action: Action, client: Client) -> None:
    """Institution-level actions on one client (admin, security officer): the role allows it,
    and the client is in the actor's own institution."""
    require(actor, action, purpose=PURPOSE)
    if client.institution_id != actor.institution_id:
        raise refuse(
            actor, action, deny("other_institution"), client_id=str(client.id), purpose=PURPOSE
        )


def _event(actor: ledger.Actor, action: str, client: Client | None, **kw: object) -> None:
    ledger.record(
        actor=actor,
        action=action,
        purpose=PURPOSE,
        client_id=str(client.id) if client else "",
        **kw,  # type: ignore[arg-type]
    )


# --- policy ----------------------------------------------------------------------------------


def policy_for(institution_id: uuid.UUID) -> tuple[int, str]:
    """(inactive days, action) for an institution: its own policy, else the settings."""
    row = RetentionPolicy.objects.filter(institution_id=institution_id).first()
    if row is not None:
        return row.inactive_days, row.action
    return int(settings.CARELEDGER_RETENTION_INACTIVE_DAYS), str(
        settings.CARELEDGER_RETENTION_ACTION
    )


def do_set_policy(*, actor: User, inactive_days: int, action: str) -> RetentionPolicy:
    require(actor, Action.RETENTION_MANAGE, purpose=PURPOSE)
    errors: dict[str, list[str]] = {}
    if action not in rules.ACTIONS:
        errors["action"] = ["unknown_action"]
    if not isinstance(inactive_days, int) or inactive_days < rules.MIN_DAYS:
        errors["inactive_days"] = ["too_short"]
    elif inactive_days > 36500:
        errors["inactive_days"] = ["too_long"]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        row, _ = RetentionPolicy.objects.update_or_create(
            institution_id=actor.institution_id,
            defaults={"inactive_days": inactive_days, "action": action, "updated_by": actor},
        )
        _event(
            actor_of(actor),
            "retention.policy.set",
            None,
            resource_type="RetentionPolicy",
            resource_id=str(actor.institution_id),
            detail={"inactive_days": inactive_days, "action": action},
        )
    return row


# --- legal holds -----------------------------------------------------------------------------


def on_hold(client_id: uuid.UUID) -> bool:
    return LegalHold.objects.filter(client_id=client_id, released_at__isnull=True).exists()


def do_place_hold(*, actor: User, client_id: uuid.UUID, reason: str) -> LegalHold:
    client = Client.objects.get(pk=client_id)
    _same_institution(actor, Action.RETENTION_MANAGE, client)
    reason = _text(reason, "reason", required=True)
    with transaction.atomic():
        hold = LegalHold.objects.create(
            institution_id=client.institution_id,
            client=client,
            reason=reason,
            placed_by=actor,
            placed_at=timezone.now(),
        )
        _event(
            actor_of(actor),
            "retention.hold.place",
            client,
            resource_type="LegalHold",
            resource_id=str(hold.id),
        )
    return hold


def do_release_hold(*, actor: User, hold_id: uuid.UUID) -> LegalHold:
    hold = LegalHold.objects.select_related("client").get(pk=hold_id)
    _same_institution(actor, Action.RETENTION_MANAGE, hold.client)
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold_id)
        if hold.released_at is not None:
            raise ValidationFailed({"hold": ["already_released"]})
        hold.released_at, hold.released_by = timezone.now(), actor
        hold.save(update_fields=["released_at", "released_by", "updated_at"])
        _event(
            actor_of(actor),
            "retention.hold.release",
            hold.client,
            resource_type="LegalHold",
            resource_id=str(hold.id),
        )
    return hold


# --- archive ---------------------------------------------------------------------------------


def _set_status(client: Client, status: str, now: dt.datetime) -> None:
    client.status, client.status_changed_at = status, now
    client.save(update_fields=["status", "status_changed_at", "updated_at"])


def do_archive(
    *, client_id: uuid.UUID, actor: ledger.Actor = ledger.SYSTEM, now: dt.datetime | None = None
) -> bool:
    """Archive one client (the nightly run); False if they are held or no longer live."""
    now = now or timezone.now()
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client_id)
        if client.status not in rules.LIVE or on_hold(client.id):
            return False
        _set_status(client, ClientStatus.ARCHIVED, now)
        _event(
            actor,
            "retention.archive",
            client,
            resource_type="Client",
            resource_id=str(client.id),
            sealed=[client],
        )
    return True


def do_reactivate(*, actor: User, client_id: uuid.UUID) -> Client:
    """An archived client comes back (they returned for a check-up): the admin reactivates."""
    client = Client.objects.get(pk=client_id)
    _same_institution(actor, Action.RETENTION_MANAGE, client)
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client_id)
        if client.status != ClientStatus.ARCHIVED:
            raise ValidationFailed({"status": ["not_archived"]})
        _set_status(client, ClientStatus.ACTIVE, timezone.now())
        _event(
            actor_of(actor),
            "retention.reactivate",
            client,
            resource_type="Client",
            resource_id=str(client.id),
            sealed=[client],
        )
    return client


def do_grant_archive_access(
    *, actor: User, client_id: uuid.UUID, reason: str, minutes: int = 60
) -> ArchiveAccess:
    """A member of the care team states why they need to read an archived client."""
    client = Client.objects.get(pk=client_id)
    require(actor, Action.ARCHIVE_ACCESS, client_scope(client), purpose=PURPOSE)
    if client.status != ClientStatus.ARCHIVED:
        raise ValidationFailed({"client": ["not_archived"]})
    if minutes not in ARCHIVE_ACCESS_MINUTES:
        raise ValidationFailed({"minutes": ["not_allowed"]})
    reason = _text(reason, "reason", required=True)
    now = timezone.now()
    with transaction.atomic():
        grant = ArchiveAccess.objects.create(
            institution_id=client.institution_id,
            user=actor,
            client=client,
            reason=reason,
            granted_at=now,
            expires_at=now + dt.timedelta(minutes=minutes),
        )
        _event(
            actor_of(actor),
            str(Action.ARCHIVE_ACCESS),
            client,
            resource_type="ArchiveAccess",
            resource_id=str(grant.id),
            detail={"minutes": minutes},
        )
    return grant


# --- shredding: erasure and anonymisation ----------------------------------------------------


def _unlinkable() -> str:
    return secrets.token_hex(32)  # the shape of a blind index, linked to nothing


IDENTIFIERS = (
    "name",
    "document_number",
    "phone",
    "address",
    "emergency_contact_name",
    "emergency_contact_phone",
)


def _withdraw_consents(client: Client, now: dt.datetime) -> list[Consent]:
    """Every consent still in force ends with the client's data (no further processing)."""
    rows = list(
        Consent.objects.select_for_update().filter(client=client, withdrawn_at__isnull=True)
    )
    for row in rows:
        row.withdrawn_at, row.withdrawal_method = now, "erasure"
        row.save(update_fields=["withdrawn_at", "withdrawal_method", "updated_at"])
    return rows


def _shred(client: Client, status: str, now: dt.datetime) -> tuple[int, list[Consent]]:
    """Destroy the client's keys and unlink the registry row; returns the keys destroyed and
    the consents ended (rows the caller's ledger event must seal with the client's)."""
    ended = _withdraw_consents(client, now)
    destroyed = keyring.destroy(KeyScope.CLIENT, client.id)
    for name in IDENTIFIERS:
        setattr(client, name, "")
    client.name_index, client.document_index, client.phone_index = (
        _unlinkable(),
        _unlinkable(),
        _unlinkable(),
    )
    client.emergency_contact_relation = ""
    client.birth_date = dt.date(client.birth_date.year, 1, 1)
    client.status, client.status_changed_at = status, now
    client.save()
    for card in MembershipCard.objects.filter(client=client):
        card.number, card.number_index = "", _unlinkable()
        card.save(update_fields=["number", "number_index", "updated_at"])
    User.objects.filter(portal_account__client=client).update(is_active=False)
    return destroyed, ended


def do_anonymise(
    *, client_id: uuid.UUID, actor: ledger.Actor = ledger.SYSTEM, now: dt.datetime | None = None
) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client_id)
        if client.status not in RETAINED or on_hold(client.id):
            return False
        keys, ended = _shred(client, ClientStatus.ANONYMISED, now)
        _event(
            actor,
            "retention.anonymise",
            client,
            resource_type="Client",
            resource_id=str(client.id),
            detail={"keys_destroyed": keys, "consents_ended": len(ended)},
            sealed=[client, *ended],
        )
    return True


def do_request_erasure(
    *, actor: User, client_id: uuid.UUID, ground: str, note: str = ""
) -> ErasureRequest:
    client = Client.objects.get(pk=client_id)
    require(actor, Action.ERASURE_REQUEST, client_scope(client), purpose=PURPOSE)
    if ground not in ErasureGround.values:
        raise ValidationFailed({"ground": ["unknown_ground"]})
    note = _text(note, "note", required=False)
    with transaction.atomic():
        if ErasureRequest.objects.filter(client=client, status=ErasureStatus.REQUESTED).exists():
            raise ValidationFailed({"client": ["request_open"]})
        request = ErasureRequest.objects.create(
            institution_id=client.institution_id,
            client=client,
            ground=ground,
            note=note,
            requested_by=actor,
            requested_at=timezone.now(),
        )
        _event(
            actor_of(actor),
            "retention.erasure.request",
            client,
            resource_type="ErasureRequest",
            resource_id=str(request.id),
            detail={"ground": ground},
        )
    return request


def do_decide_erasure(
    *, actor: User, request_id: uuid.UUID, approve: bool, note: str = ""
) -> ErasureRequest:
    """The second person's decision; approval executes the erasure in the same transaction."""
    found = ErasureRequest.objects.select_related("client").get(pk=request_id)
    _same_institution(actor, Action.ERASURE_APPROVE, found.client)
    if found.requested_by_id == actor.id:
        raise refuse(
            actor,
            Action.ERASURE_APPROVE,
            deny("requester_cannot_approve"),
            client_id=str(found.client_id),
            purpose=PURPOSE,
        )
    note = _text(note, "note", required=False)
    now = timezone.now()
    with transaction.atomic():
        request = ErasureRequest.objects.select_for_update().get(pk=request_id)
        if request.status != ErasureStatus.REQUESTED:
            raise ValidationFailed({"request": ["already_decided"]})
        client = Client.objects.select_for_update().get(pk=request.client_id)
        if approve and on_hold(client.id):
            raise ValidationFailed({"client": ["legal_hold"]})
        request.decided_by, request.decided_at, request.decision_note = actor, now, note
        ended: list[Consent] = []
        if approve:
            request.keys_destroyed, ended = _shred(client, ClientStatus.ERASED, now)
            request.status = ErasureStatus.EXECUTED
        else:
            request.status = ErasureStatus.REJECTED
        request.save()
        _event(
            actor_of(actor),
            "retention.erasure.execute" if approve else "retention.erasure.reject",
            client,
            resource_type="ErasureRequest",
            resource_id=str(request.id),
            detail={"keys_destroyed": request.keys_destroyed, "ground": request.ground},
            sealed=[client, *ended] if approve else [],
        )
    return request


def do_replay_erasure(*, client_id: uuid.UUID) -> bool:
    """Erase again a client erased after the backup that was just restored (the restored
    database still has their data key): the system shreds, the ledger says why."""
    now = timezone.now()
    with transaction.atomic():
        client = Client.objects.select_for_update().filter(pk=client_id).first()
        if client is None or client.status == ClientStatus.ERASED:
            return False
        keys, ended = _shred(client, ClientStatus.ERASED, now)
        _event(
            ledger.SYSTEM,
            "retention.erasure.replay",
            client,
            resource_type="Client",
            resource_id=str(client.id),
            detail={"keys_destroyed": keys, "consents_ended": len(ended)},
            sealed=[client, *ended],
        )
    return True


# --- the nightly run -------------------------------------------------------------------------


def _chunks(items: list[uuid.UUID], size: int) -> Iterable[list[uuid.UUID]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def candidates(institution_id: uuid.UUID, *, before: dt.datetime) -> list[rules.Candidate]:
    """Retained clients enrolled before `before`, with their last activity and holds (one
    ledger query per thousand clients)."""
    rows = list(
        Client.objects.filter(
            institution_id=institution_id, status__in=RETAINED, created_at__lt=before
        )
        .order_by("id")
        .values_list("id", "status", "created_at")
    )
    held = set(
        LegalHold.objects.filter(
            institution_id=institution_id, released_at__isnull=True
        ).values_list("client_id", flat=True)
    )
    out = []
    for chunk in _chunks([r[0] for r in rows], CHUNK):
        last = dict(
            LedgerEntry.objects.filter(
                client_id__in=[str(c) for c in chunk], outcome=ledger.Outcome.ALLOWED
            )
            .exclude(actor_id__in=("system", "anonymous"))
            .order_by()
            .values("client_id")
            .annotate(last=Max("recorded_at"))
            .values_list("client_id", "last")
        )
        out.extend(
            rules.Candidate(cid, status, max(created, last.get(str(cid), created)), cid in held)
            for cid, status, created in rows
            if cid in set(chunk)
        )
    return out


def run_institution(institution: Institution, *, now: dt.datetime | None = None) -> RetentionRun:
    now = now or timezone.now()
    days, action = policy_for(institution.id)
    run = RetentionRun.objects.create(
        institution=institution, started_at=now, action=action, inactive_days=days
    )
    found = candidates(institution.id, before=rules.cutoff(now, days))
    plan = rules.plan(found, now=now, days=days, action=action)
    run.examined, run.held = len(found), len(plan.held)
    run.archived = sum(do_archive(client_id=c, now=now) for c in plan.archive)
    run.anonymised = sum(do_anonymise(client_id=c, now=now) for c in plan.anonymise)
    run.finished_at = timezone.now()
    run.save()
    with transaction.atomic():
        _event(
            ledger.SYSTEM,
            "retention.run",
            None,
            resource_type="RetentionRun",
            resource_id=str(run.id),
            detail={
                "examined": run.examined,
                "archived": run.archived,
                "anonymised": run.anonymised,
                "held": run.held,
                "action": action,
                "days": days,
            },
        )
    return run


def run_everyone(*, now: dt.datetime | None = None) -> list[RetentionRun]:
    return [run_institution(i, now=now) for i in Institution.objects.order_by("code")]
