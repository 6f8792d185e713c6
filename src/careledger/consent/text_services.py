"""Consent texts (知情同意书文本): the admin writes drafts, publishes them, retires them.

A published text is immutable: `do_update_draft` refuses it, and its publication event seals
the row (`ledger verify` catches an edit made behind the application's back). Publishing a new
version of a purpose retires the previous one (one published text per purpose, enforced by a
partial unique constraint); consents given against the old version stay valid and keep pointing
at the text they were given against. Needs `consent.text.manage` (institution admin).
"""

from __future__ import annotations

import hashlib
import uuid

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.validation import ValidationFailed
from careledger.consent.models import ConsentText, TextStatus
from careledger.consent.purposes import Purpose
from careledger.ledger import services as ledger

PURPOSE = "configuration"
MAX_TITLE = 200
MAX_BODY = 20000


def body_digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def check_can_manage(actor: User) -> None:
    require(actor, Action.CONSENT_TEXT_MANAGE, purpose=PURPOSE)


def _validated(purpose: str, title: str, body: str) -> tuple[str, str, str]:
    errors: dict[str, list[str]] = {}
    if purpose not in {p.value for p in Purpose}:
        errors["purpose"] = ["unknown_purpose"]
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        errors["title"] = ["required"]
    elif len(title) > MAX_TITLE:
        errors["title"] = ["too_long"]
    if not body:
        errors["body"] = ["required"]
    elif len(body) > MAX_BODY:
        errors["body"] = ["too_long"]
    if errors:
        raise ValidationFailed(errors)
    return purpose, title, body


def _record(actor: User, row: ConsentText, op: str, *also: ConsentText) -> None:
    ledger.record(
        actor=actor_of(actor),
        action=f"consent.text.{op}",
        purpose=PURPOSE,
        resource_type="ConsentText",
        resource_id=str(row.id),
        detail={"purpose": row.purpose, "version": row.version, "status": row.status},
        sealed=[row, *also],
    )


def _own(actor: User, text_id: uuid.UUID) -> ConsentText:
    return ConsentText.objects.select_for_update().get(pk=text_id, institution=actor.institution_id)


def do_create_draft(*, actor: User, purpose: str, title: str, body: str) -> ConsentText:
    """A new draft version of a purpose's text (one draft at a time per purpose)."""
    check_can_manage(actor)
    purpose, title, body = _validated(purpose, title, body)
    with transaction.atomic():
        texts = ConsentText.objects.filter(institution=actor.institution_id, purpose=purpose)
        if texts.filter(status=TextStatus.DRAFT).exists():
            raise ValidationFailed({"purpose": ["draft_exists"]})
        latest = texts.aggregate(v=Max("version"))["v"] or 0
        row = ConsentText.objects.create(
            institution_id=actor.institution_id,
            purpose=purpose,
            version=latest + 1,
            title=title,
            body=body,
            body_sha256=body_digest(body),
            created_by=actor,
        )
        _record(actor, row, "create")
    return row


def do_update_draft(*, actor: User, text_id: uuid.UUID, title: str, body: str) -> ConsentText:
    check_can_manage(actor)
    with transaction.atomic():
        row = _own(actor, text_id)
        if row.status != TextStatus.DRAFT:
            raise ValidationFailed({"status": ["published_text_is_immutable"]})
        _purpose, row.title, row.body = _validated(row.purpose, title, body)
        row.body_sha256 = body_digest(row.body)
        row.save(update_fields=["title", "body", "body_sha256", "updated_at"])
        _record(actor, row, "update")
    return row


def do_publish(*, actor: User, text_id: uuid.UUID) -> ConsentText:
    check_can_manage(actor)
    now = timezone.now()
    with transaction.atomic():
        row = _own(actor, text_id)
        if row.status != TextStatus.DRAFT:
            raise ValidationFailed({"status": ["not_a_draft"]})
        previous = list(
            ConsentText.objects.select_for_update().filter(
                institution=row.institution_id, purpose=row.purpose, status=TextStatus.PUBLISHED
            )
        )
        for old in previous:
            old.status, old.retired_at = TextStatus.RETIRED, now
            old.save(update_fields=["status", "retired_at", "updated_at"])
        row.status, row.published_at, row.published_by = TextStatus.PUBLISHED, now, actor
        row.body_sha256 = body_digest(row.body)
        row.save(
            update_fields=["status", "published_at", "published_by", "body_sha256", "updated_at"]
        )
        _record(actor, row, "publish", *previous)
    return row


def do_retire(*, actor: User, text_id: uuid.UUID) -> ConsentText:
    """Stop offering a published text (consents given against it stay in force)."""
    check_can_manage(actor)
    with transaction.atomic():
        row = _own(actor, text_id)
        if row.status != TextStatus.PUBLISHED:
            raise ValidationFailed({"status": ["not_published"]})
        row.status, row.retired_at = TextStatus.RETIRED, timezone.now()
        row.save(update_fields=["status", "retired_at", "updated_at"])
        _record(actor, row, "retire")
    return row


def texts_for(actor: User) -> list[ConsentText]:
    """Every text of the actor's institution (configuration: no client data; not ledgered)."""
    check_can_manage(actor)
    return list(ConsentText.objects.filter(institution=actor.institution_id))


def text_for(actor: User, text_id: uuid.UUID) -> ConsentText:
    check_can_manage(actor)
    return ConsentText.objects.get(pk=text_id, institution=actor.institution_id)
