"""JSON API: `router` is client-scoped (mounted under /api/clients/{client_id}/questionnaires),
`config_router` holds the definitions (mounted under /api/config/questionnaires).

Client routes mirror the pages through the same selectors and services (same policy, same
ledger): `GET ""` the client's responses (`?response_id=` one, with its answers), `POST ""`
starts a questionnaire (`questionnaire_id`) and/or saves answers to a response (`response_id`,
`answers` by linkId, `submit`), `GET /fhir` the responses as a FHIR Bundle. Ids travel in the
query or the body so every path answers a GET with only the client id. Problems with answers
come back as 422 with one message per item.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Body, Path, Query, Router, Schema
from ninja.errors import HttpError

from careledger.questionnaires import config_selectors, config_services, selectors, services, values
from careledger.questionnaires.models import Questionnaire, QuestionnaireResponse

router = Router(tags=["questionnaires"])
config_router = Router(tags=["questionnaires"])


class ScoreOut(Schema):
    code: str
    display: str
    value: Decimal
    band: str
    flag: bool


class ResponseOut(Schema):
    id: uuid.UUID
    questionnaire_id: uuid.UUID
    questionnaire_code: str
    questionnaire_version: int
    status: str
    channel: str
    started_at: dt.datetime
    completed_at: dt.datetime | None
    scores: list[ScoreOut]
    answers: dict[str, list[Any]] | None = None


class ResponseFilter(Schema):
    response_id: uuid.UUID | None = None


class AnswersIn(Schema):
    questionnaire_id: uuid.UUID | None = None
    response_id: uuid.UUID | None = None
    answers: dict[str, Any] = {}
    submit: bool = False


class SavedOut(Schema):
    response_id: uuid.UUID
    status: str
    version: int
    scores: list[ScoreOut]


def _out(view: selectors.ResponseView, with_answers: bool = False) -> dict[str, Any]:
    return {
        "id": view.id,
        "questionnaire_id": view.questionnaire.id,
        "questionnaire_code": view.questionnaire.code,
        "questionnaire_version": view.questionnaire.version,
        "status": view.status,
        "channel": view.channel,
        "started_at": view.started_at,
        "completed_at": view.completed_at,
        "scores": [s.__dict__ for s in view.scores],
        "answers": {k: [values.to_json(v) for v in vs] for k, vs in view.answers.items()}
        if with_answers
        else None,
    }


@router.get("", response=list[ResponseOut])
def list_responses(  # type: ignore[no-untyped-def]
    request: HttpRequest, client_id: Path[uuid.UUID], filters: Query[ResponseFilter]
):
    if filters.response_id:
        try:
            view = selectors.response_detail(request.user, client_id, filters.response_id)
        except QuestionnaireResponse.DoesNotExist as exc:
            raise HttpError(404, "not found") from exc
        return [_out(view, with_answers=True)]
    listing = selectors.client_questionnaires(request.user, client_id)
    return [_out(v) for v in listing.responses]


@router.post("", response={200: SavedOut, 422: dict})
def save_answers(request: HttpRequest, client_id: Path[uuid.UUID], payload: Body[AnswersIn]):  # type: ignore[no-untyped-def]
    response_id = payload.response_id
    if response_id is None:
        if payload.questionnaire_id is None:
            raise HttpError(422, "questionnaire_id or response_id is required")
        response_id = services.do_start_response(
            actor=request.user, client_id=client_id, questionnaire_id=payload.questionnaire_id
        ).id
    try:
        saved = services.do_save_response(
            actor=request.user,
            client_id=client_id,
            response_id=response_id,
            answers=payload.answers,
            submit=payload.submit,
        )
    except QuestionnaireResponse.DoesNotExist as exc:
        raise HttpError(404, "not found") from exc
    if not saved.ok:
        errors: dict[str, list[str]] = {}
        for p in saved.problems:
            errors.setdefault(p.link_id, []).append(p.message())
        return 422, {"detail": "invalid", "response_id": str(saved.response_id), "errors": errors}
    return 200, {
        "response_id": saved.response_id,
        "status": saved.status,
        "version": saved.version,
        "scores": [
            {
                "code": s.code,
                "display": s.display,
                "value": s.rounded,
                "band": s.band,
                "flag": s.flag,
            }
            for s in saved.scores
            if s.rounded is not None
        ],
    }


@router.get("/fhir")
def fhir_bundle(  # type: ignore[no-untyped-def]
    request: HttpRequest, client_id: Path[uuid.UUID], filters: Query[ResponseFilter]
):
    try:
        return selectors.responses_fhir(request.user, client_id, filters.response_id)
    except QuestionnaireResponse.DoesNotExist as exc:
        raise HttpError(404, "not found") from exc


# -- definitions (institution configuration) --------------------------------------------------


class DefinitionOut(Schema):
    id: uuid.UUID
    code: str
    url: str
    version: int
    status: str
    title: str
    builtin: bool


def _definition(row: Questionnaire) -> dict[str, Any]:
    return {
        "id": row.id,
        "code": row.code,
        "url": row.url,
        "version": row.version,
        "status": row.status,
        "title": row.title,
        "builtin": row.builtin,
    }


def _own(request: HttpRequest, questionnaire_id: uuid.UUID) -> Questionnaire:
    try:
        return config_selectors.get_definition(request.user, questionnaire_id)  # type: ignore[arg-type]
    except Questionnaire.DoesNotExist as exc:
        raise HttpError(404, "not found") from exc


@config_router.get("", response=list[DefinitionOut])
def list_definitions(request: HttpRequest):  # type: ignore[no-untyped-def]
    return [_definition(q) for q in config_selectors.list_definitions(request.user)]  # type: ignore[arg-type]


@config_router.post("", response={201: DefinitionOut})
def import_definition(request: HttpRequest, resource: Body[dict[str, Any]]):  # type: ignore[no-untyped-def]
    """Import a FHIR R4 Questionnaire (JSON) as a new draft."""
    return 201, _definition(config_services.do_import(actor=request.user, data=resource))  # type: ignore[arg-type]


@config_router.get("/{questionnaire_id}")
def export_definition(request: HttpRequest, questionnaire_id: uuid.UUID):  # type: ignore[no-untyped-def]
    """The version's FHIR R4 Questionnaire JSON."""
    return _own(request, questionnaire_id).resource


@config_router.put("/{questionnaire_id}", response=DefinitionOut)
def update_draft(  # type: ignore[no-untyped-def]
    request: HttpRequest, questionnaire_id: uuid.UUID, resource: Body[dict[str, Any]]
):
    _own(request, questionnaire_id)
    return _definition(
        config_services.do_update_draft(
            actor=request.user,  # type: ignore[arg-type]
            questionnaire_id=questionnaire_id,
            resource=resource,
        )
    )


@config_router.post("/{questionnaire_id}/{op}", response=DefinitionOut)
def change_status(request: HttpRequest, questionnaire_id: uuid.UUID, op: str):  # type: ignore[no-untyped-def]
    """`publish`, `retire`, or `new-version` (a draft copied from this version)."""
    actions = {
        "publish": config_services.do_publish,
        "retire": config_services.do_retire,
        "new-version": config_services.do_new_version,
    }
    if op not in actions:
        raise HttpError(404, "not found")
    _own(request, questionnaire_id)
    return _definition(actions[op](actor=request.user, questionnaire_id=questionnaire_id))  # type: ignore[arg-type]
