"""Every read of a client's questionnaire responses: authorised, ledgered, bounded queries.

Staff reads ask the policy (`permissions.VIEW` to read, `permissions.FILL` for the form that
edits) and ledger one event per read in the same transaction (purpose "emergency" under a
break-glass grant). Portal reads (`portal_*`) take the account `check_portal_user` returned and
reach only its client. Views and the API get plain values (`ResponseView`, `ScoreView`), never
rows; free text is opened only for the one response being shown.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Prefetch

from careledger.access.enforce import actor_of, require
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.ledger import services as ledger
from careledger.questionnaires import config_services, fhir_response, permissions, scoring, stored
from careledger.questionnaires.definition import Definition
from careledger.questionnaires.models import (
    Channel,
    Questionnaire,
    QuestionnaireResponse,
    ResponseScore,
    ResponseStatus,
    Status,
)
from careledger.questionnaires.services import PORTAL_PURPOSE, PURPOSE


@dataclass(frozen=True)
class ScoreView:
    code: str
    display: str
    value: Decimal
    band: str
    band_display: str
    flag: bool


@dataclass(frozen=True)
class QuestionnaireOption:
    id: uuid.UUID
    code: str
    title: str
    version: int


@dataclass(frozen=True)
class ResponseView:
    id: uuid.UUID
    questionnaire: QuestionnaireOption
    status: str
    channel: str
    version: int
    started_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    scores: list[ScoreView] = field(default_factory=list)
    definition: Definition | None = None  # with `answers`, for the one response being shown
    answers: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return self.status == ResponseStatus.COMPLETED

    @property
    def channel_label(self) -> str:
        return str(Channel(self.channel).label) if self.channel in Channel.values else ""

    @property
    def flagged(self) -> bool:
        return any(s.flag for s in self.scores)


@dataclass(frozen=True)
class ClientQuestionnaires:
    responses: list[ResponseView]
    available: list[QuestionnaireOption]
    emergency: bool


def _option(q: Questionnaire) -> QuestionnaireOption:
    return QuestionnaireOption(q.id, q.code, q.title, q.version)


def _score_views(defn: Definition | None, rows: list[ResponseScore]) -> list[ScoreView]:
    rules = {r.code: r for r in defn.scores} if defn else {}
    out = []
    for row in rows:
        rule = rules.get(row.instrument)
        band = scoring.band_for(rule.bands, row.score) if rule else None
        display = band.display if band and band.code == row.band else ""
        if row.instrument.startswith("tcm:") and not display:
            from careledger.questionnaires import tcm

            display = tcm.BAND_NAMES.get(row.band, "")
        out.append(
            ScoreView(
                code=row.instrument,
                display=rule.display if rule else row.instrument,
                value=row.score,
                band=row.band,
                band_display=display or row.band,
                flag=row.flag,
            )
        )
    order = {r: i for i, r in enumerate(rules)}
    return sorted(out, key=lambda s: order.get(s.code, len(order)))


def _view(row: QuestionnaireResponse, *, with_answers: bool = False) -> ResponseView:
    defn = stored.definition_of(row.questionnaire)
    return ResponseView(
        id=row.id,
        questionnaire=_option(row.questionnaire),
        status=row.status,
        channel=row.channel,
        version=row.version,
        started_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
        scores=_score_views(defn, list(row.scores.all())),
        definition=defn if with_answers else None,
        answers=stored.typed_answers(defn, row) if with_answers else {},
    )


def _responses(client: Client) -> list[QuestionnaireResponse]:
    return list(
        QuestionnaireResponse.objects.filter(client=client)
        .select_related("questionnaire")
        .prefetch_related(Prefetch("scores", queryset=ResponseScore.objects.order_by("id")))
        .order_by("-created_at")
    )


def published(institution_id: uuid.UUID) -> list[QuestionnaireOption]:
    """The questionnaires a response can be started on (built-ins loaded on first use)."""
    config_services.ensure_builtin(institution_id=institution_id)
    rows = Questionnaire.objects.filter(institution_id=institution_id, status=Status.PUBLISHED)
    return [_option(q) for q in rows.order_by("title")]


def _read(
    actor: User, client: Client, action: str, purpose: str, **fields: Any
) -> None:  # inside the caller's transaction
    ledger.record(
        actor=actor_of(actor), action=action, purpose=purpose, client_id=str(client.id), **fields
    )


def client_questionnaires(actor: User, client_id: uuid.UUID) -> ClientQuestionnaires:
    """The client's responses (newest first, with scores) and what can be started."""
    client = Client.objects.get(pk=client_id)
    decision = require(actor, permissions.VIEW, client_scope(client), purpose=PURPOSE)
    available = published(client.institution_id)
    with transaction.atomic():
        rows = _responses(client)
        _read(
            actor,
            client,
            permissions.RESPONSE_LIST,
            decision.purpose(PURPOSE),
            detail={"responses": len(rows)},
        )
    return ClientQuestionnaires(
        responses=[_view(r) for r in rows], available=available, emergency=decision.emergency
    )


def _one(client: Client, response_id: uuid.UUID) -> QuestionnaireResponse:
    return (
        QuestionnaireResponse.objects.select_related("questionnaire")
        .prefetch_related("scores")
        .get(pk=response_id, client=client)
    )


def response_detail(actor: User, client_id: uuid.UUID, response_id: uuid.UUID) -> ResponseView:
    """One response with its answers (free text opened) and scores."""
    client = Client.objects.get(pk=client_id)
    decision = require(actor, permissions.VIEW, client_scope(client), purpose=PURPOSE)
    with transaction.atomic():
        row = _one(client, response_id)
        _read(
            actor,
            client,
            permissions.RESPONSE_VIEW,
            decision.purpose(PURPOSE),
            resource_type="QuestionnaireResponse",
            resource_id=str(row.id),
            detail={"questionnaire": row.questionnaire.code, "version": row.questionnaire.version},
        )
        return _view(row, with_answers=True)


def response_for_filling(actor: User, client_id: uuid.UUID, response_id: uuid.UUID) -> ResponseView:
    """A response with its saved answers, for the form that continues it (those who may fill)."""
    client = Client.objects.get(pk=client_id)
    require(actor, permissions.FILL, client_scope(client), purpose=PURPOSE)
    with transaction.atomic():
        row = _one(client, response_id)
        _read(
            actor,
            client,
            permissions.RESPONSE_VIEW,
            PURPOSE,
            resource_type="QuestionnaireResponse",
            resource_id=str(row.id),
            detail={"questionnaire": row.questionnaire.code, "for": "fill"},
        )
        return _view(row, with_answers=True)


def fhir_of(view: ResponseView, client_id: uuid.UUID) -> dict[str, Any]:
    assert view.definition is not None
    scores = [
        scoring.Score(s.code, s.display, s.value, s.band, s.band_display, s.flag)
        for s in view.scores
    ]
    return fhir_response.to_fhir(
        response_id=str(view.id),
        defn=view.definition,
        client_id=str(client_id),
        status=view.status,
        answers=view.answers,
        authored=view.completed_at or view.updated_at,
        scores=scores,
    )


def responses_fhir(
    actor: User, client_id: uuid.UUID, response_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """The client's responses (or one) as a FHIR R4 Bundle (collection), ledgered as an export."""
    client = Client.objects.get(pk=client_id)
    decision = require(actor, permissions.VIEW, client_scope(client), purpose=PURPOSE)
    with transaction.atomic():
        rows = [_one(client, response_id)] if response_id else _responses(client)
        resources = [fhir_of(_view(r, with_answers=True), client.id) for r in rows]
        _read(
            actor,
            client,
            permissions.RESPONSE_EXPORT,
            decision.purpose(PURPOSE),
            resource_type="QuestionnaireResponse",
            resource_id=str(response_id) if response_id else "",
            detail={"responses": len(rows), "format": "fhir"},
        )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


# -- the client in the portal -------------------------------------------------------------------


def portal_questionnaires(account: Any) -> ClientQuestionnaires:
    """The signed-in client's own responses (no scores: the care team interprets them) and the
    questionnaires they can fill in."""
    client = account.client
    available = published(client.institution_id)
    with transaction.atomic():
        rows = _responses(client)
        ledger.record(
            actor=actor_of(account.user),
            action=permissions.RESPONSE_LIST,
            purpose=PORTAL_PURPOSE,
            client_id=str(client.id),
            detail={"responses": len(rows)},
        )
    views = [ResponseView(**{**_view(r).__dict__, "scores": []}) for r in rows]
    return ClientQuestionnaires(responses=views, available=available, emergency=False)


def portal_response(account: Any, response_id: uuid.UUID) -> ResponseView:
    """One of the signed-in client's own responses, with answers; DoesNotExist for anyone
    else's (the view answers 404 and ledgers the refusal)."""
    client = account.client
    with transaction.atomic():
        row = _one(client, response_id)
        ledger.record(
            actor=actor_of(account.user),
            action=permissions.RESPONSE_VIEW,
            purpose=PORTAL_PURPOSE,
            client_id=str(client.id),
            resource_type="QuestionnaireResponse",
            resource_id=str(row.id),
            detail={"questionnaire": row.questionnaire.code},
        )
        view = _view(row, with_answers=True)
    return ResponseView(**{**view.__dict__, "scores": []})


def refuse_portal(account: Any, action: str, reason: str) -> None:
    """Ledger a portal client's refused reach for something not theirs."""
    with transaction.atomic():
        ledger.record(
            actor=actor_of(account.user),
            action=action,
            outcome=ledger.Outcome.DENIED,
            purpose=PORTAL_PURPOSE,
            client_id=str(account.client_id),
            detail={"reason": reason},
        )
