"""Follow-up routes of the JSON API: thin wrappers over the pages' selectors and services, so
the same policy, masking and ledger apply.

* `router` at /api/followup: GET /queue (filters as the page), GET /tasks/{task_id}, POST
  /tasks/{task_id}/claim, /assign, /outcome, /call.
* `client_router` at /api/clients/{client_id}/followup: the client's plans, tasks and records.
* `config_router` at /api/config/followup-plans: the plans with counts (GET), a new plan (POST),
  publish a version (POST /versions/{version_id}/publish).
Every path answers GET, so the route-enumeration test (invariant 1) reaches its authorisation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from ninja.errors import HttpError

from careledger.followup import plan_services, selectors, services

router = Router(tags=["follow-up"])
client_router = Router(tags=["follow-up"])
config_router = Router(tags=["follow-up"])


class TaskRead(Schema):
    id: uuid.UUID
    client_id: uuid.UUID
    client_name: str
    plan_name: str
    channel: str
    status: str
    scheduled_date: dt.date
    due_date: dt.date
    shift_reason: str
    due_by: dt.datetime
    overdue: bool
    escalated: bool
    attempts: int
    assignee: str
    seq: int


class QueueRead(Schema):
    page: int
    pages: int
    count: int
    tasks: list[TaskRead]


class QueueQuery(Schema):
    scope: str = "mine"
    due: str = "all"
    channel: str = ""
    tag: str = ""
    plan: uuid.UUID | None = None
    page: int = 1


class RecordRead(Schema):
    id: uuid.UUID
    attempt: int
    version: int
    outcome: str
    next_action: str
    next_date: dt.date | None = None
    note: str
    recorded_by: str
    recorded_at: dt.datetime
    is_current: bool


class TaskDetailRead(Schema):
    id: uuid.UUID
    client_id: uuid.UUID
    client_name: str
    phone: str  # always masked: dial through POST /call
    plan_name: str
    channel: str
    status: str
    scheduled_date: dt.date
    due_by: dt.datetime
    script: str
    questionnaire_id: uuid.UUID | None = None
    records: list[RecordRead]


class OutcomeWrite(Schema):
    outcome: str
    next_action: str = "none"
    next_date: dt.date | None = None
    note: str = ""
    questionnaire_response_id: uuid.UUID | None = None


class AssignWrite(Schema):
    assignee_id: uuid.UUID


class CallRead(Schema):
    ok: bool
    status: str
    reason: str


def _found(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except ObjectDoesNotExist:
        raise HttpError(404, "not found") from None


def _detail(actor: Any, task_id: uuid.UUID) -> dict[str, Any]:
    d = _found(selectors.task_detail, actor, task_id)
    t = d.task
    return {
        "id": t.id,
        "client_id": t.client_id,
        "client_name": d.client_name,
        "phone": d.phone,
        "plan_name": d.plan_name,
        "channel": t.channel,
        "status": t.status,
        "scheduled_date": t.scheduled_date,
        "due_by": t.due_by,
        "script": d.script,
        "questionnaire_id": d.questionnaire_id,
        "records": [r.__dict__ for r in d.records],
    }


@router.get("/queue", response=QueueRead)
def queue(request: HttpRequest, q: Query[QueueQuery]) -> dict[str, Any]:
    filters = selectors.QueueFilters(
        scope="team" if q.scope == "team" else "mine",
        due=q.due if q.due in selectors.DUE_FILTERS else "all",
        channel=q.channel,
        tag=q.tag[:40],
        plan=q.plan,
    )
    page, rows = selectors.queue(request.user, filters, page=max(1, q.page))
    return {
        "page": page.number,
        "pages": page.paginator.num_pages,
        "count": page.paginator.count,
        "tasks": [r.__dict__ for r in rows],
    }


@router.get("/tasks/{task_id}", response=TaskDetailRead)
def task(request: HttpRequest, task_id: Path[uuid.UUID]) -> dict[str, Any]:
    return _detail(request.user, task_id)


@router.post("/tasks/{task_id}/claim", response=TaskDetailRead)
def claim(request: HttpRequest, task_id: Path[uuid.UUID]) -> dict[str, Any]:
    _found(services.do_claim, actor=request.user, task_id=task_id)
    return _detail(request.user, task_id)


@router.post("/tasks/{task_id}/assign", response=TaskDetailRead)
def assign(request: HttpRequest, task_id: Path[uuid.UUID], body: AssignWrite) -> dict[str, Any]:
    _found(services.do_assign, actor=request.user, task_id=task_id, assignee_id=body.assignee_id)
    return _detail(request.user, task_id)


@router.post("/tasks/{task_id}/outcome", response=TaskDetailRead)
def outcome(request: HttpRequest, task_id: Path[uuid.UUID], body: OutcomeWrite) -> dict[str, Any]:
    data = services.OutcomeInput(**body.model_dump())
    _found(services.do_record_outcome, actor=request.user, task_id=task_id, data=data)
    return _detail(request.user, task_id)


@router.post("/tasks/{task_id}/call", response=CallRead)
def call(request: HttpRequest, task_id: Path[uuid.UUID]) -> dict[str, Any]:
    result = _found(services.do_request_call, actor=request.user, task_id=task_id)
    return {"ok": result.ok, "status": result.status, "reason": result.reason}


class EnrolmentRead(Schema):
    id: uuid.UUID
    plan: str
    version: int
    status: str
    anchor_date: dt.date
    end_reason: str


class ClientTaskRead(Schema):
    id: uuid.UUID
    plan: str
    channel: str
    status: str
    scheduled_date: dt.date
    close_reason: str


class ClientFollowupRead(Schema):
    client_id: uuid.UUID
    enrolments: list[EnrolmentRead]
    tasks: list[ClientTaskRead]
    records: list[RecordRead]


@client_router.get("", response=ClientFollowupRead)
def client_followup(request: HttpRequest, client_id: Path[uuid.UUID]) -> dict[str, Any]:
    data = selectors.client_followup(request.user, client_id)
    return {
        "client_id": data.client_id,
        "enrolments": [
            {
                "id": e.id,
                "plan": e.plan.code,
                "version": e.plan_version.version,
                "status": e.status,
                "anchor_date": e.anchor_date,
                "end_reason": e.end_reason,
            }
            for e in data.enrolments
        ],
        "tasks": [
            {
                "id": t.id,
                "plan": t.plan_version.plan.code,
                "channel": t.channel,
                "status": t.status,
                "scheduled_date": t.scheduled_date,
                "close_reason": t.close_reason,
            }
            for t in data.tasks
        ],
        "records": [r.__dict__ for r in data.records],
    }


class VersionRead(Schema):
    id: uuid.UUID
    version: int
    status: str
    trigger_kind: str
    trigger_params: dict[str, Any]
    rrule: str
    first_days: int
    channel: str
    assignee_role: str
    sla_hours: int
    max_attempts: int


class PlanRead(Schema):
    id: uuid.UUID
    code: str
    name_zh: str
    name_en: str
    active_enrolments: int
    versions: list[VersionRead]


class PlanWrite(Schema):
    code: str
    name_zh: str
    name_en: str = ""
    plan: dict[str, Any]  # the version's fields, as `plans.clean_plan` takes them


def _version(v: Any) -> dict[str, Any]:
    return {name: getattr(v, name) for name in VersionRead.model_fields}


@config_router.get("", response=list[PlanRead])
def plan_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "id": row.plan.id,
            "code": row.plan.code,
            "name_zh": row.plan.name_zh,
            "name_en": row.plan.name_en,
            "active_enrolments": row.active_enrolments,
            "versions": [_version(v) for v in row.versions],
        }
        for row in selectors.plans(request.user)
    ]


@config_router.post("", response={201: VersionRead})
def plan_create(request: HttpRequest, body: PlanWrite) -> tuple[int, dict[str, Any]]:
    version = plan_services.do_create_plan(
        actor=request.user,
        code=body.code,
        name_zh=body.name_zh,
        name_en=body.name_en,
        data=body.plan,
    )
    return 201, _version(version)


@config_router.post("/versions/{version_id}/publish", response=VersionRead)
def publish(request: HttpRequest, version_id: Path[uuid.UUID]) -> dict[str, Any]:
    return _version(_found(plan_services.do_publish, actor=request.user, version_id=version_id))
