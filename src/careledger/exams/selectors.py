"""Reads for the report-sync pages: job history and progress (counts only), the quarantine
(authorised per item: an item that names a client is shown only to that client's care team;
identifiers from the file are masked as the policy says), and the unknown codes an admin maps.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, QuerySet

from careledger.access import masking
from careledger.access.enforce import actor_of, require, team_ids
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.crypto import keyring
from careledger.exams import payload
from careledger.exams.models import ImportJob, ImportSource, QuarantinedItem, QuarantineStatus
from careledger.exams.pipeline import PURPOSE
from careledger.ledger import services as ledger
from careledger.observations import catalogue

PAGE = 50


def jobs(actor: User) -> QuerySet[ImportJob]:
    require(actor, Action.EXAM_IMPORT, purpose=PURPOSE)
    return ImportJob.objects.filter(institution_id=actor.institution_id).select_related(
        "source", "created_by"
    )


def job(actor: User, job_id: uuid.UUID) -> ImportJob:
    require(actor, Action.EXAM_IMPORT, purpose=PURPOSE)
    found = (
        ImportJob.objects.select_related("source", "created_by")
        .filter(pk=job_id, institution_id=actor.institution_id)
        .first()
    )
    if found is None:
        raise ImportJob.DoesNotExist
    return found


def sources(actor: User) -> QuerySet[ImportSource]:
    require(actor, Action.EXAM_IMPORT, purpose=PURPOSE)
    return ImportSource.objects.filter(institution_id=actor.institution_id)


@dataclass(frozen=True)
class QuarantineRow:
    id: uuid.UUID
    job_id: uuid.UUID
    created_at: object
    scope: str
    location: str
    field: str
    reason: str
    message: str
    local_code: str
    local_name: str
    client_id: uuid.UUID | None
    # From the sealed payload, masked as the policy says for this actor.
    patient_name: str
    patient_id_number: str
    patient_card_number: str
    exam_date: str
    value: str
    unit: str
    attempts: int
    can_retry: bool


def _visible_items(actor: User) -> QuerySet[QuarantinedItem]:
    """Items with no client (nobody's yet) or of a client in one of the actor's care teams."""
    from django.db.models import Q

    return QuarantinedItem.objects.filter(institution_id=actor.institution_id).filter(
        Q(client__isnull=True) | Q(client__care_team_links__care_team_id__in=team_ids(actor))
    )


def quarantine(
    actor: User,
    *,
    job_id: uuid.UUID | None = None,
    reason: str = "",
    status: str = QuarantineStatus.OPEN,
    page: int = 1,
) -> list[QuarantineRow]:
    decision = require(actor, Action.EXAM_QUARANTINE, purpose=PURPOSE)
    items = _visible_items(actor).filter(status=status).distinct().order_by("created_at", "id")
    if job_id:
        items = items.filter(job_id=job_id)
    if reason:
        items = items.filter(reason=reason)
    start = (max(1, page) - 1) * PAGE
    with transaction.atomic():
        rows = list(items[start : start + PAGE])
        keyring.preload(rows, ["payload"])
        out = [_row(item, decision.mask_identifiers) for item in rows]
        ledger.record(
            actor=actor_of(actor),
            action="exam.quarantine.view",
            purpose=PURPOSE,
            detail={"items": len(rows), "page": page},
        )
    return out


def _row(item: QuarantinedItem, masked: bool) -> QuarantineRow:
    name = id_number = card = exam_date = value = unit = ""
    if item.payload:
        report = payload.load(item.payload)
        name, id_number, card = (
            report.patient.name,
            report.patient.id_number,
            report.patient.card_number,
        )
        exam_date = report.effective_at.date().isoformat()
        if item.scope == "result" and report.results:
            value, unit = report.results[0].value, report.results[0].unit
    if masked:
        name = masking.mask_name(name) if name else ""
        id_number = masking.mask_document(id_number) if id_number else ""
        card = masking.mask_card_number(card) if card else ""
    return QuarantineRow(
        id=item.id,
        job_id=item.job_id,
        created_at=item.created_at,
        scope=item.scope,
        location=item.location,
        field=item.field,
        reason=item.reason,
        message=item.message,
        local_code=item.local_code,
        local_name=item.local_name,
        client_id=item.client_id,
        patient_name=name,
        patient_id_number=id_number,
        patient_card_number=card,
        exam_date=exam_date,
        value=value,
        unit=unit,
        attempts=item.attempts,
        can_retry=bool(item.payload) and item.scope == "result" and item.client_id is not None,
    )


@dataclass(frozen=True)
class UnknownCode:
    source_name: str
    local_code: str
    local_name: str
    open_items: int
    suggestions: tuple[catalogue.Indicator, ...]


def unknown_codes(actor: User) -> list[UnknownCode]:
    """Local codes that quarantined results because nothing maps them (codes and counts only:
    what an admin needs to map them, nothing about anyone)."""
    require(actor, Action.CATALOGUE_MAP, purpose=PURPOSE)
    rows = (
        QuarantinedItem.objects.filter(
            institution_id=actor.institution_id, status=QuarantineStatus.OPEN, reason="unknown_code"
        )
        .values("job__source__name", "local_code", "local_name")
        .annotate(n=Count("id"))
        .order_by("job__source__name", "-n", "local_code")
    )
    return [
        UnknownCode(
            source_name=r["job__source__name"],
            local_code=r["local_code"],
            local_name=r["local_name"],
            open_items=r["n"],
            suggestions=tuple(catalogue.suggest(r["local_name"] or r["local_code"])[:5]),
        )
        for r in rows
    ]
