"""Consent routes of the JSON API.

`router`, mounted at /api/clients/{client_id}/consents: the history (GET) and a consent given
at the desk (POST) on the same path; a withdrawal (POST /withdraw naming the consent; GET lists
those in force); the history as a FHIR R4 Bundle of Consent resources (GET /fhir).
`config_router`, mounted at /api/config/consents: consent texts (list, create a draft, read,
update a draft, publish, retire). Separate input and output schemas per resource (the sealed
desk reference is never in an output schema). Thin wrappers over the pages' selectors and
services, so the same policy and ledger apply; every path answers GET, so the route test
(invariant 1) reaches its authorisation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Path, Router, Schema

from careledger.consent import selectors, services, text_services
from careledger.consent.models import Consent, ConsentText

router = Router(tags=["consent"])
config_router = Router(tags=["consent"])


class ConsentRead(Schema):
    id: uuid.UUID
    purpose: str
    partner_institution_id: uuid.UUID | None = None
    partner_name: str
    text_id: uuid.UUID
    text_version: int
    text_sha256: str
    method: str
    given_at: dt.datetime
    withdrawn_at: dt.datetime | None = None
    in_force: bool


class ConsentCreate(Schema):
    text_id: uuid.UUID
    method: str  # "paper" or "recording"
    reference: str  # where the signed form or the recording is kept (sealed)
    partner_institution_id: uuid.UUID | None = None
    partner_name: str = ""


class ConsentWithdraw(Schema):
    consent_id: uuid.UUID
    method: str
    reference: str


class ClientConsentsRead(Schema):
    client_id: uuid.UUID
    in_force: list[str]
    consents: list[ConsentRead]


def _read(row: Consent) -> ConsentRead:
    return ConsentRead(
        id=row.id,
        purpose=row.purpose,
        partner_institution_id=row.partner_institution_id,
        partner_name=row.partner_name,
        text_id=row.text_id,
        text_version=row.text_version,
        text_sha256=row.text_sha256,
        method=row.method,
        given_at=row.given_at,
        withdrawn_at=row.withdrawn_at,
        in_force=row.withdrawn_at is None,
    )


@router.get("", response=ClientConsentsRead)
def list_consents(request: HttpRequest, client_id: Path[uuid.UUID]) -> ClientConsentsRead:
    data = selectors.client_consents(request.user, client_id)  # type: ignore[arg-type]
    return ClientConsentsRead(
        client_id=client_id,
        in_force=sorted({c.purpose for c in data.in_force}),
        consents=[_read(c) for c in data.consents],
    )


@router.post("", response={201: ConsentRead})
def give_consent(
    request: HttpRequest, payload: ConsentCreate, client_id: Path[uuid.UUID]
) -> tuple[int, ConsentRead]:
    row = services.do_record(
        actor=request.user,  # type: ignore[arg-type]
        client_id=client_id,
        text_id=payload.text_id,
        method=payload.method,
        reference=payload.reference,
        partner_institution_id=payload.partner_institution_id,
        partner_name=payload.partner_name,
    )
    return 201, _read(row)


@router.get("/fhir")
def consents_fhir(request: HttpRequest, client_id: Path[uuid.UUID]) -> dict[str, Any]:
    return selectors.client_consents_fhir(request.user, client_id)  # type: ignore[arg-type]


@router.get("/withdraw", response=list[ConsentRead])
def withdrawable(request: HttpRequest, client_id: Path[uuid.UUID]) -> list[ConsentRead]:
    """The consents in force, i.e. what a withdrawal may name."""
    data = selectors.client_consents(request.user, client_id)  # type: ignore[arg-type]
    return [_read(c) for c in data.in_force]


@router.post("/withdraw", response=ConsentRead)
def withdraw_consent(
    request: HttpRequest, payload: ConsentWithdraw, client_id: Path[uuid.UUID]
) -> ConsentRead:
    if not Consent.objects.filter(pk=payload.consent_id, client_id=client_id).exists():
        # Authorise first, so an outsider learns nothing from "no such consent".
        selectors.client_consents(request.user, client_id)  # type: ignore[arg-type]
        raise Consent.DoesNotExist
    row = services.do_withdraw(
        actor=request.user,  # type: ignore[arg-type]
        consent_id=payload.consent_id,
        method=payload.method,
        reference=payload.reference,
    )
    return _read(row)


# --- consent texts (configuration) -----------------------------------------------------------


class TextRead(Schema):
    id: uuid.UUID
    purpose: str
    version: int
    title: str
    body: str
    body_sha256: str
    status: str
    published_at: dt.datetime | None = None


class TextCreate(Schema):
    purpose: str
    title: str
    body: str


class TextUpdate(Schema):
    title: str
    body: str


def _text(row: ConsentText) -> TextRead:
    return TextRead(
        id=row.id,
        purpose=row.purpose,
        version=row.version,
        title=row.title,
        body=row.body,
        body_sha256=row.body_sha256,
        status=row.status,
        published_at=row.published_at,
    )


@config_router.get("", response=list[TextRead])
def list_texts(request: HttpRequest) -> list[TextRead]:
    return [_text(t) for t in text_services.texts_for(request.user)]  # type: ignore[arg-type]


@config_router.post("", response={201: TextRead})
def create_text(request: HttpRequest, payload: TextCreate) -> tuple[int, TextRead]:
    row = text_services.do_create_draft(
        actor=request.user,  # type: ignore[arg-type]
        purpose=payload.purpose,
        title=payload.title,
        body=payload.body,
    )
    return 201, _text(row)


@config_router.get("/{text_id}", response=TextRead)
def get_text(request: HttpRequest, text_id: uuid.UUID) -> TextRead:
    return _text(text_services.text_for(request.user, text_id))  # type: ignore[arg-type]


@config_router.put("/{text_id}", response=TextRead)
def update_text(request: HttpRequest, text_id: uuid.UUID, payload: TextUpdate) -> TextRead:
    row = text_services.do_update_draft(
        actor=request.user,  # type: ignore[arg-type]
        text_id=text_id,
        title=payload.title,
        body=payload.body,
    )
    return _text(row)


@config_router.post("/{text_id}/publish", response=TextRead)
def publish_text(request: HttpRequest, text_id: uuid.UUID) -> TextRead:
    return _text(text_services.do_publish(actor=request.user, text_id=text_id))  # type: ignore[arg-type]


@config_router.post("/{text_id}/retire", response=TextRead)
def retire_text(request: HttpRequest, text_id: uuid.UUID) -> TextRead:
    return _text(text_services.do_retire(actor=request.user, text_id=text_id))  # type: ignore[arg-type]
