"""Every read of follow-up data: the work queue, one task to perform, a client's follow-up
history, and the plans (configuration). Authorised by the policy, masked as it decides (nurses
and call agents see 张*明, 138****5678), ledgered, and a fixed number of queries however long
the list (tests/followup count them).

The queue (`followup.queue`) is scoped by the query, like the client list: only tasks of
clients who are in one of the asker's care teams *now* (a client moved to another team leaves
the old team's queue at once), active clients only. "Mine" is what the asker holds or what was
escalated to them; "team" is everything open for their teams. Every client shown is a ledger
read (one event per client, in one append).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from careledger.access import masking
from careledger.access.enforce import actor_of, require, team_ids
from careledger.access.roles import Action, masks_identifiers
from careledger.accounts.models import User
from careledger.clients.models import Client, ClientCareTeam
from careledger.clients.services import client_scope
from careledger.followup.models import (
    OPEN_STATUSES,
    Enrolment,
    FollowupPlan,
    FollowupRecord,
    FollowupTask,
    PlanVersion,
)
from careledger.followup.schedule import local_today
from careledger.ledger import services as ledger

PURPOSE = "care"
PAGE_SIZE = 50
DUE_FILTERS = ("today", "overdue", "upcoming", "all")


@dataclass(frozen=True)
class QueueFilters:
    scope: str = "mine"  # mine / team
    due: str = "all"
    channel: str = ""
    tag: str = ""  # tag code
    plan: uuid.UUID | None = None


@dataclass(frozen=True)
class TaskRow:
    id: uuid.UUID
    client_id: uuid.UUID
    client_name: str  # masked for masked roles
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


def _visible(actor: User) -> QuerySet[FollowupTask]:
    teams = team_ids(actor)
    in_team = ClientCareTeam.objects.filter(client_id=OuterRef("client_id"), care_team_id__in=teams)
    return FollowupTask.objects.filter(
        Exists(in_team),
        institution_id=actor.institution_id,
        status__in=OPEN_STATUSES,
        client__status="active",
    )


def _filtered(actor: User, f: QueueFilters, now: dt.datetime) -> QuerySet[FollowupTask]:
    rows = _visible(actor)
    if f.scope != "team":
        rows = rows.filter(Q(assignee=actor) | Q(escalated_to=actor))
    today = local_today(now)
    if f.due == "today":
        rows = rows.filter(scheduled_date__lte=today, due_by__gte=now)
    elif f.due == "overdue":
        rows = rows.filter(due_by__lt=now)
    elif f.due == "upcoming":
        rows = rows.filter(scheduled_date__gt=today)
    if f.channel:
        rows = rows.filter(channel=f.channel)
    if f.plan:
        rows = rows.filter(plan_version__plan_id=f.plan)
    if f.tag:
        from careledger.tagging.models import ClientTag

        tagged = ClientTag.objects.filter(
            client_id=OuterRef("client_id"), tag__code=f.tag, active=True
        )
        rows = rows.filter(Exists(tagged))
    return rows


def _row(t: FollowupTask, masked: bool, now: dt.datetime, language: str) -> TaskRow:
    name = t.client.name
    assignee = t.assignee.display_name if t.assignee_id and t.assignee else ""
    return TaskRow(
        id=t.id,
        client_id=t.client_id,
        client_name=masking.mask_name(name) if masked else name,
        plan_name=t.plan_version.plan.name(language),
        channel=t.channel,
        status=t.status,
        scheduled_date=t.scheduled_date,
        due_date=t.due_date,
        shift_reason=t.shift_reason,
        due_by=t.due_by,
        overdue=t.due_by < now,
        escalated=t.escalated_at is not None,
        attempts=t.attempts,
        assignee=assignee,
        seq=t.seq,
    )


def queue(
    actor: User, filters: QueueFilters, *, page: int = 1, language: str = "zh-hans"
) -> tuple[Page, list[TaskRow]]:
    decision = require(actor, Action.FOLLOWUP_QUEUE, purpose=PURPOSE)
    now = timezone.now()
    rows = (
        _filtered(actor, filters, now)
        .select_related("client", "plan_version__plan", "assignee")
        .order_by("scheduled_date", "due_by", "id")
    )
    with transaction.atomic():
        page_obj = Paginator(rows, PAGE_SIZE).get_page(page)
        tasks = list(page_obj.object_list)
        shown = [_row(t, decision.mask_identifiers, now, language) for t in tasks]
        clients = sorted({str(t.client_id) for t in tasks})
        if clients:
            ledger.record_many(
                actor=actor_of(actor),
                action=str(Action.FOLLOWUP_QUEUE),
                purpose=PURPOSE,
                client_ids=clients,
                resource_type="Task",
                details=[{"scope": filters.scope, "page": page_obj.number}] * len(clients),
            )
    return page_obj, shown


def plan_choices(actor: User) -> list[FollowupPlan]:
    """The institution's plans, for the queue's filter (configuration, no client data)."""
    return list(FollowupPlan.objects.filter(institution_id=actor.institution_id).order_by("code"))


@dataclass(frozen=True)
class RecordView:
    id: uuid.UUID
    attempt: int
    version: int
    outcome: str
    next_action: str
    next_date: dt.date | None
    note: str
    questionnaire_response_id: uuid.UUID | None
    recorded_by: str
    recorded_at: dt.datetime
    is_current: bool


@dataclass(frozen=True)
class TaskDetail:
    task: FollowupTask
    client_name: str
    phone: str  # masked for masked roles, and never more than masked on the perform page
    masked: bool
    plan_name: str
    script: str
    questionnaire_id: uuid.UUID | None
    questionnaire_title: str
    records: list[RecordView]
    emergency: bool


def _record_view(r: FollowupRecord) -> RecordView:
    return RecordView(
        id=r.id,
        attempt=r.attempt,
        version=r.version,
        outcome=r.outcome,
        next_action=r.next_action,
        next_date=r.next_date,
        note=r.note,
        questionnaire_response_id=r.questionnaire_response_id,
        recorded_by=r.recorded_by.display_name,
        recorded_at=r.recorded_at,
        is_current=r.is_current,
    )


def _questionnaire(version: PlanVersion) -> tuple[uuid.UUID | None, str]:
    if not version.questionnaire_code:
        return None, ""
    from careledger.questionnaires.models import Questionnaire

    q = (
        Questionnaire.objects.filter(
            institution_id=version.institution_id,
            code=version.questionnaire_code,
            status="published",
        )
        .order_by("-version")
        .first()
    )
    return (q.id, q.title) if q else (None, "")


def task_detail(actor: User, task_id: uuid.UUID, *, language: str = "zh-hans") -> TaskDetail:
    """One task with the script, the questionnaire and the attempts so far (the perform page).
    The phone number is always masked here: staff dial through the gateway."""
    task = FollowupTask.objects.select_related("client", "plan_version__plan").get(pk=task_id)
    decision = require(actor, Action.FOLLOWUP_VIEW, client_scope(task.client), purpose=PURPOSE)
    masked = decision.mask_identifiers
    with transaction.atomic():
        records = [
            _record_view(r)
            for r in FollowupRecord.objects.filter(task=task)
            .select_related("recorded_by")
            .order_by("attempt", "version")
        ]
        q_id, q_title = _questionnaire(task.plan_version)
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.FOLLOWUP_VIEW),
            purpose=decision.purpose(PURPOSE),
            client_id=str(task.client_id),
            resource_type="Task",
            resource_id=str(task.id),
            detail={"records": len(records)},
        )
    name = task.client.name
    return TaskDetail(
        task=task,
        client_name=masking.mask_name(name) if masked else name,
        phone=masking.mask_phone(task.client.phone),
        masked=masked,
        plan_name=task.plan_version.plan.name(language),
        script=task.plan_version.script,
        questionnaire_id=q_id,
        questionnaire_title=q_title,
        records=records,
        emergency=decision.emergency,
    )


@dataclass(frozen=True)
class ClientFollowup:
    client_id: uuid.UUID
    client_name: str
    enrolments: list[Enrolment]
    tasks: list[FollowupTask]
    records: list[RecordView]
    emergency: bool


def client_followup(actor: User, client_id: uuid.UUID) -> ClientFollowup:
    """A client's plans, tasks and follow-up records (随访记录), newest first."""
    client = Client.objects.get(pk=client_id)
    decision = require(actor, Action.FOLLOWUP_VIEW, client_scope(client), purpose=PURPOSE)
    with transaction.atomic():
        enrolments = list(
            Enrolment.objects.filter(client=client)
            .select_related("plan", "plan_version")
            .order_by("-created_at")
        )
        tasks = list(
            FollowupTask.objects.filter(client=client)
            .select_related("plan_version__plan", "assignee")
            .order_by("-scheduled_date", "-seq")[:200]
        )
        records = [
            _record_view(r)
            for r in FollowupRecord.objects.filter(client=client)
            .select_related("recorded_by")
            .order_by("-recorded_at", "-version")
        ]
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.FOLLOWUP_VIEW),
            purpose=decision.purpose(PURPOSE),
            client_id=str(client.id),
            resource_type="Task",
            detail={"tasks": len(tasks), "records": len(records)},
        )
    name = client.name
    return ClientFollowup(
        client_id=client.id,
        client_name=masking.mask_name(name) if decision.mask_identifiers else name,
        enrolments=enrolments,
        tasks=tasks,
        records=records,
        emergency=decision.emergency,
    )


@dataclass(frozen=True)
class PlanRow:
    plan: FollowupPlan
    versions: list[PlanVersion]
    active_enrolments: int  # a count, never who


def plans(actor: User) -> list[PlanRow]:
    """The institution's plans and versions with counts (configuration; ledgered as such)."""
    require(actor, Action.FOLLOWUP_PLAN_MANAGE, purpose="configuration")
    from django.db.models import Count

    all_plans = list(FollowupPlan.objects.filter(institution_id=actor.institution_id))
    versions: dict[uuid.UUID, list[PlanVersion]] = {}
    for v in PlanVersion.objects.filter(institution_id=actor.institution_id).order_by(
        "plan_id", "-version"
    ):
        versions.setdefault(v.plan_id, []).append(v)
    counts = dict(
        Enrolment.objects.filter(institution_id=actor.institution_id, status="active")
        .order_by()
        .values("plan_id")
        .annotate(n=Count("id"))
        .values_list("plan_id", "n")
    )
    return [PlanRow(p, versions.get(p.id, []), counts.get(p.id, 0)) for p in all_plans]


def plan_version(actor: User, version_id: uuid.UUID) -> PlanVersion:
    require(actor, Action.FOLLOWUP_PLAN_MANAGE, purpose="configuration")
    return PlanVersion.objects.select_related("plan").get(
        pk=version_id, institution_id=actor.institution_id
    )


__all__ = [
    "DUE_FILTERS",
    "QueueFilters",
    "client_followup",
    "masks_identifiers",
    "plan_choices",
    "plans",
    "queue",
    "task_detail",
]
