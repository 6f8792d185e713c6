"""Export routes of the JSON API, mounted at /api/exports (institution-level, no client id).

Thin wrappers over the pages' selectors and services, so the same policy and ledger apply.
Approving and downloading need a browser session that passed MFA within the step-up window
(`accounts.stepup`); a bearer token cannot prove that, so those two answer 403 for it.
Separate input and output schemas: `ExportCreate` takes a scope, `ExportRead` shows purpose,
scope, counts and status — never the justification's author's data beyond their user name,
and never a row of the file (the file itself is `GET /{id}/file`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from careledger.accounts.stepup import mfa_is_fresh
from careledger.exports import selectors, services
from careledger.exports.models import ExportRequest, ResearchProject

router = Router(tags=["exports"])


class ExportCreate(Schema):
    purpose: str
    justification: str
    project_id: str = ""
    format: str = "csv"
    care_team_ids: list[str] = []
    tag_codes: list[str] = []
    enrolled_from: dt.date | None = None
    enrolled_to: dt.date | None = None
    results_from: dt.date | None = None
    results_to: dt.date | None = None
    categories: list[str] = []
    observation_codes: list[str] = []
    identifier_fields: list[str] = []
    k: int = 5


class ExportRead(Schema):
    id: uuid.UUID
    kind: str
    purpose: str
    status: str
    requested_by: str
    decided_by: str | None = None
    identified: bool
    file_format: str
    client_count: int
    row_count: int
    scope: dict[str, Any]
    scope_sha256: str
    deid_report: dict[str, Any]
    created_at: dt.datetime
    decided_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    downloads: int
    max_downloads: int
    failure_reason: str


class ExportLists(Schema):
    mine: list[ExportRead]
    to_decide: list[ExportRead]
    decided: list[ExportRead]


class DecisionIn(Schema):
    note: str = ""


class ProjectCreate(Schema):
    code: str
    title: str
    k: int = 5


class ProjectRead(Schema):
    id: uuid.UUID
    code: str
    title: str
    k: int
    created_at: dt.datetime


def _read(e: ExportRequest) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind,
        "purpose": e.purpose,
        "status": e.status,
        "requested_by": e.requested_by.username,
        "decided_by": e.decided_by.username if e.decided_by else None,
        "identified": e.identified,
        "file_format": e.file_format,
        "client_count": e.client_count,
        "row_count": e.row_count,
        "scope": e.scope,
        "scope_sha256": e.scope_sha256,
        "deid_report": e.deid_report,
        "created_at": e.created_at,
        "decided_at": e.decided_at,
        "expires_at": e.expires_at,
        "downloads": e.downloads,
        "max_downloads": e.max_downloads,
        "failure_reason": e.failure_reason,
    }


def _detail(request: HttpRequest, request_id: uuid.UUID) -> dict[str, Any]:
    return _read(selectors.export_detail(request.user, request_id))


@router.get("", response=ExportLists)
def list_exports(request: HttpRequest) -> dict[str, Any]:
    lists = selectors.export_lists(request.user)
    return {
        "mine": [_read(e) for e in lists.mine],
        "to_decide": [_read(e) for e in lists.to_decide],
        "decided": [_read(e) for e in lists.decided],
    }


@router.post("", response={201: ExportRead})
def create_export(request: HttpRequest, payload: ExportCreate) -> tuple[int, dict[str, Any]]:
    data = payload.dict()
    justification = data.pop("justification")
    export = services.do_request_export(actor=request.user, data=data, justification=justification)
    return 201, _detail(request, export.id)


@router.get("/projects", response=list[ProjectRead])
def list_projects(request: HttpRequest) -> list[ResearchProject]:
    return selectors.projects(request.user)


@router.post("/projects", response={201: ProjectRead})
def create_project(request: HttpRequest, payload: ProjectCreate) -> tuple[int, ResearchProject]:
    project = services.do_create_project(
        actor=request.user, code=payload.code, title=payload.title, k=payload.k
    )
    return 201, project


@router.get("/{request_id}", response=ExportRead)
def get_export(request: HttpRequest, request_id: uuid.UUID) -> dict[str, Any]:
    return _detail(request, request_id)


@router.post("/{request_id}/approve", response=ExportRead)
def approve_export(request: HttpRequest, request_id: uuid.UUID, payload: DecisionIn) -> dict:
    services.do_approve_export(
        actor=request.user,
        request_id=request_id,
        mfa_fresh=mfa_is_fresh(request),
        note=payload.note,
    )
    return _detail(request, request_id)


@router.post("/{request_id}/reject", response=ExportRead)
def reject_export(request: HttpRequest, request_id: uuid.UUID, payload: DecisionIn) -> dict:
    services.do_reject_export(actor=request.user, request_id=request_id, note=payload.note)
    return _detail(request, request_id)


@router.post("/{request_id}/withdraw", response=ExportRead)
def withdraw_export(request: HttpRequest, request_id: uuid.UUID) -> dict[str, Any]:
    services.do_withdraw_export(actor=request.user, request_id=request_id)
    return _detail(request, request_id)


@router.get("/{request_id}/file")
def download_export(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    file = services.do_download_export(
        actor=request.user, request_id=request_id, mfa_fresh=mfa_is_fresh(request)
    )
    response = HttpResponse(file.data, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response
