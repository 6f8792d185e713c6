"""Automatic follow-up: the scheduled run that enrols clients into plans and makes their tasks.

One run per institution (`generate_institution`, the hourly beat task `generate_everywhere`),
idempotent — a second run at once writes nothing — and set-based: a fixed number of queries per
plan and per batch of 2,000 enrolments, never a query per client, so 100,000 clients with active
plans take seconds (benchmarks/followup.py). The steps, in order:

1. **Enrol** (`_sync_plan`, per published plan version): the clients the trigger holds for now,
   with the day it started to hold (the anchor), from one query over tags, current risk
   assessments, latest results, check-up reports, latest questionnaire scores or the registry.
   A client gets an enrolment at most once per (plan, anchor); a trigger that clears (tag
   removed, risk fell, result normal again, score below the bar) ends the enrolment and cancels
   its open tasks (`trigger_cleared`); a newer check-up moves the plan to the new anchor
   (`rescheduled`). Only active clients with a care team are enrolled.
2. **Materialise** (`_materialise`): for each active enrolment, the occurrences of its version's
   schedule due from today to the horizon (today + CARELEDGER_FOLLOWUP_HORIZON_DAYS, Asia/Shanghai
   dates) that have no task yet become tasks, moved to working days and given their call window
   and SLA deadline (`schedule.slot`). Stateless — what was made is read from the tasks (the
   highest occurrence number per enrolment), so nothing but the new tasks is written. Occurrences
   due before today or before the enrolment began are passed over, as are those on a channel the
   client has not consented to (`consent_gate`).
3. **Withdrawn consent**: open tasks on a channel whose consent is no longer in force are
   cancelled (`consent_withdrawn`), one UPDATE per channel.
4. **Escalate**: open tasks past their SLA deadline are escalated to the team lead — a member
   whose care-team membership role is `lead` (组长), else the team's health managers' queue
   (escalated_to empty; the team queue shows the flag).
5. **Complete**: enrolments whose last occurrence is past and have no open task are completed.

Every task and enrolment written is sealed in the ledger (as the system, one event per 500 rows
naming the clients' ids), so a task slipped in or removed behind the application's back is
reported by `ledger verify`.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from careledger.clients.models import Client, ClientCareTeam
from careledger.followup import consent_gate
from careledger.followup.models import (
    OPEN_STATUSES,
    Enrolment,
    EnrolmentStatus,
    FollowupTask,
    PlanStatus,
    PlanVersion,
    TaskStatus,
)
from careledger.followup.plans import CLEARABLE
from careledger.followup.schedule import SHANGHAI, Schedule, local_today, occurrences, slot
from careledger.institutions.models import CareTeamMembership, TeamRole
from careledger.ledger import services as ledger

BATCH = 2000
ABNORMAL_FLAGS = ("H", "L", "HH", "LL", "A")


@dataclass
class RunSummary:
    enrolled: int = 0
    ended: int = 0
    tasks: int = 0
    skipped_no_consent: int = 0
    cancelled_consent: int = 0
    escalated: int = 0
    completed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, other: RunSummary) -> None:
        for name in ("enrolled", "ended", "tasks", "skipped_no_consent", "cancelled_consent"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.escalated += other.escalated
        self.completed += other.completed


def schedule_of(version: PlanVersion) -> Schedule:
    return Schedule(
        first_days=version.first_days,
        frequency=version.repeat_frequency,
        interval=version.repeat_interval,
        count=version.repeat_count,
    )


def _day(value: dt.datetime | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(SHANGHAI).date()
    return value


# --- 1. who the trigger holds for, and since when -----------------------------------------


def matching(version: PlanVersion, *, today: dt.date) -> dict[str, dt.date]:
    """{client id: anchor day} for every active client of the institution the trigger holds
    for now. One query (two for an abnormal result: the latest per client is picked here)."""
    kind, params = version.trigger_kind, version.trigger_params
    inst = version.institution_id
    active = Q(client__status="active")
    if kind == "tag":
        from careledger.tagging.models import ClientTag

        rows = (
            ClientTag.objects.filter(active, institution_id=inst, tag__code=params["tag"])
            .filter(active=True)
            .values("client_id")
            .annotate(at=Max("applied_at"))
            .values_list("client_id", "at")
        )
    elif kind == "risk_level":
        from careledger.assessment.models import RiskAssessment

        rows = RiskAssessment.objects.filter(
            active,
            institution_id=inst,
            model_id=params["model"],
            is_current=True,
            level__in=params["levels"],
        ).values_list("client_id", "assessed_at")
    elif kind == "abnormal_result":
        from careledger.observations.models import Observation

        latest: dict[str, tuple[dt.datetime, str]] = {}
        found = Observation.objects.filter(
            active, institution_id=inst, code=params["code"], is_current=True
        ).values_list("client_id", "effective_at", "flag")
        for client_id, at, flag in found.iterator(chunk_size=10000):
            key = str(client_id)
            if key not in latest or at > latest[key][0]:
                latest[key] = (at, flag)
        return {c: _day(at) for c, (at, flag) in latest.items() if flag in ABNORMAL_FLAGS}
    elif kind == "questionnaire_score":
        from careledger.questionnaires.models import ResponseScore

        rows = ResponseScore.objects.filter(
            active,
            institution_id=inst,
            instrument=params["instrument"],
            is_latest=True,
            score__gte=params["min_score"],
        ).values_list("client_id", "answered_at")
    elif kind == "checkup":
        from careledger.observations.models import Report

        since = today - dt.timedelta(days=params["within_days"])
        rows = (
            Report.objects.filter(active, institution_id=inst)
            .values("client_id")
            .annotate(at=Max("effective_at"))
            .filter(at__gte=dt.datetime.combine(since, dt.time(), tzinfo=SHANGHAI))
            .values_list("client_id", "at")
        )
    elif kind == "enrolment":
        since = today - dt.timedelta(days=params["within_days"])
        rows = Client.objects.filter(
            institution_id=inst,
            status="active",
            created_at__gte=dt.datetime.combine(since, dt.time(), tzinfo=SHANGHAI),
        ).values_list("id", "created_at")
    else:  # pragma: no cover - clean_plan refuses other kinds
        raise ValueError(f"unknown trigger {kind!r}")
    return {str(c): _day(at) for c, at in rows.iterator(chunk_size=10000)}


def _teams(institution_id: uuid.UUID, client_ids: Iterable[str]) -> dict[str, uuid.UUID]:
    """Each client's care team that owns their follow-up (the first by id, deterministic)."""
    wanted = set(client_ids)
    teams: dict[str, uuid.UUID] = {}
    rows = (
        ClientCareTeam.objects.filter(client__institution_id=institution_id)
        .order_by("client_id", "care_team_id")
        .values_list("client_id", "care_team_id")
    )
    for client_id, team_id in rows.iterator(chunk_size=10000):
        key = str(client_id)
        if key in wanted and key not in teams:
            teams[key] = team_id
    return teams


def _end(enrolments: list[Enrolment], status: str, reason: str, now: dt.datetime) -> list[Any]:
    """End these enrolments and cancel their open tasks; the rows written (for the seals)."""
    if not enrolments:
        return []
    ids = [e.id for e in enrolments]
    for e in enrolments:
        e.status, e.ended_at, e.end_reason, e.updated_at = status, now, reason, now
    Enrolment.objects.bulk_update(enrolments, ["status", "ended_at", "end_reason", "updated_at"])
    open_tasks = list(
        FollowupTask.objects.select_for_update().filter(
            enrolment_id__in=ids, status__in=OPEN_STATUSES
        )
    )
    for t in open_tasks:
        t.status, t.closed_at, t.close_reason, t.updated_at = TaskStatus.CANCELLED, now, reason, now
    FollowupTask.objects.bulk_update(
        open_tasks, ["status", "closed_at", "close_reason", "updated_at"], batch_size=500
    )
    return [*enrolments, *open_tasks]


SEAL_ROWS = 500


def _seal_by_client(
    rows: list[Any], action: str, detail: dict[str, Any], actor: ledger.Actor = ledger.SYSTEM
) -> None:
    """Seal the rows a run wrote: one ledger event per 500 rows, naming the clients they
    concern (pseudonymous ids) — the scheduler acts as the system, for many clients at once, and
    one event per client would cost more than the work (decision 0022). A person's action on a
    client is always its own event (services)."""
    for start in range(0, len(rows), SEAL_ROWS):
        chunk = rows[start : start + SEAL_ROWS]
        clients = sorted({str(row.client_id) for row in chunk})
        ledger.record(
            actor=actor,
            action=action,
            purpose="care",
            client_id=clients[0] if len(clients) == 1 else "",
            resource_type="Task",
            detail={**detail, "rows": len(chunk), "clients": clients},
            sealed=chunk,
        )


def _sync_plan(version: PlanVersion, *, today: dt.date, now: dt.datetime) -> tuple[int, int]:
    """Enrol the clients the trigger holds for; end the enrolments whose trigger cleared."""
    holds = matching(version, today=today)
    plan_rows = Enrolment.objects.filter(plan_id=version.plan_id).order_by()
    seen: set[tuple[str, dt.date]] = set()
    active: dict[str, tuple[uuid.UUID, dt.date]] = {}
    rows = plan_rows.values_list("id", "client_id", "anchor_date", "status")
    for enrolment_id, client, anchor, status in rows.iterator(chunk_size=10000):
        seen.add((str(client), anchor))
        if status == EnrolmentStatus.ACTIVE:
            active[str(client)] = (enrolment_id, anchor)
    clear_ids, move_ids = [], []
    for client_id, (enrolment_id, anchor_was) in active.items():
        anchor = holds.get(client_id)
        if anchor is None:
            if version.trigger_kind in CLEARABLE:
                clear_ids.append(enrolment_id)
        elif version.trigger_kind == "checkup" and anchor > anchor_was:
            move_ids.append(enrolment_id)
    clear = list(Enrolment.objects.filter(id__in=clear_ids)) if clear_ids else []
    move = list(Enrolment.objects.filter(id__in=move_ids)) if move_ids else []
    moving = {str(e.client_id) for e in move}
    new: list[tuple[str, dt.date]] = []
    for client_id, anchor in holds.items():
        if (client_id, anchor) in seen:
            continue
        if client_id in active and client_id not in moving:
            continue
        new.append((client_id, anchor))
    teams = _teams(version.institution_id, [c for c, _a in new]) if new else {}
    created = [
        Enrolment(
            id=uuid.uuid4(),
            institution_id=version.institution_id,
            client_id=client_id,
            plan_id=version.plan_id,
            plan_version=version,
            care_team_id=teams[client_id],
            anchor_date=anchor,
            started_on=today,
            status=EnrolmentStatus.ACTIVE,
        )
        for client_id, anchor in new
        if client_id in teams
    ]
    for start in range(0, max(len(created), len(clear) + len(move)), BATCH) or [0]:
        with transaction.atomic():
            ended = []
            if start == 0:
                ended = _end(clear, EnrolmentStatus.CANCELLED, "trigger_cleared", now)
                ended += _end(move, EnrolmentStatus.ENDED, "rescheduled", now)
            chunk = created[start : start + BATCH]
            Enrolment.objects.bulk_create(chunk, batch_size=500)
            _seal_by_client(
                [*ended, *chunk],
                "followup.enrol",
                {"plan": str(version.plan_id), "version": version.version},
            )
    return len(created), len(clear) + len(move)


# --- 2. tasks for the coming days --------------------------------------------------------


@dataclass(frozen=True)
class _VersionSpec:
    schedule: Schedule
    weekdays: frozenset[int]
    call_start: dt.time
    call_end: dt.time
    sla_hours: int
    channel: str
    role: str


def _specs(version_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, _VersionSpec]:
    return {
        v.id: _VersionSpec(
            schedule_of(v),
            frozenset(v.weekdays or [1, 2, 3, 4, 5]),
            v.call_start,
            v.call_end,
            v.sla_hours,
            v.channel,
            v.assignee_role,
        )
        for v in PlanVersion.objects.filter(id__in=list(version_ids))
    }


def _consenting(institution_id: uuid.UUID, channels: Iterable[str], now: dt.datetime):  # type: ignore[no-untyped-def]
    allowed: dict[str, set[str] | None] = {}
    for channel in set(channels):
        query = consent_gate.consented_clients(
            institution_id=institution_id, channel=channel, at=now
        )
        allowed[channel] = (
            None
            if query is None
            else {str(c) for c in query.values_list("client_id", flat=True).iterator(10000)}
        )
    return allowed


def _materialise(
    institution_id: uuid.UUID, *, today: dt.date, now: dt.datetime, horizon: int
) -> tuple[int, int]:
    """Tasks for the occurrences due from today to the horizon that have none yet. Stateless:
    an occurrence is made once (unique per enrolment and number), in order (after the highest
    number already made); one due before today or before the enrolment began is passed over."""
    last_day = today + dt.timedelta(days=horizon)
    active = Enrolment.objects.filter(institution_id=institution_id, status=EnrolmentStatus.ACTIVE)
    version_ids = set(active.order_by().values_list("plan_version_id", flat=True).distinct())
    if not version_ids:
        return 0, 0
    specs = _specs(version_ids)
    allowed = _consenting(institution_id, {s.channel for s in specs.values()}, now)
    ids = list(active.order_by("id").values_list("id", flat=True))
    columns = ("id", "client_id", "care_team_id", "plan_version_id", "anchor_date", "started_on")
    made = skipped = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        with transaction.atomic():
            batch = list(
                Enrolment.objects.select_for_update()
                .filter(id__in=chunk, status=EnrolmentStatus.ACTIVE)
                .order_by("id")
                .values_list(*columns)
            )
            made_upto = dict(
                FollowupTask.objects.filter(enrolment_id__in=chunk)
                .order_by()
                .values("enrolment_id")
                .annotate(top=Max("seq"))
                .values_list("enrolment_id", "top")
            )
            tasks: list[FollowupTask] = []
            for enrolment_id, client_id, team_id, version_id, anchor, started in batch:
                spec = specs[version_id]
                consenting = allowed[spec.channel]
                ok = consenting is None or str(client_id) in consenting
                first_open = max(started, today)
                done_upto = made_upto.get(enrolment_id, -1)
                for seq, due in enumerate(occurrences(spec.schedule, anchor)):
                    if due > last_day:
                        break
                    if seq <= done_upto or due < first_open:
                        continue
                    if not ok:
                        skipped += 1
                        continue
                    s = slot(due, spec.weekdays, spec.call_start, spec.call_end, spec.sla_hours)
                    tasks.append(
                        FollowupTask(
                            id=uuid.uuid4(),
                            institution_id=institution_id,
                            client_id=client_id,
                            enrolment_id=enrolment_id,
                            plan_version_id=version_id,
                            care_team_id=team_id,
                            seq=seq,
                            channel=spec.channel,
                            due_date=due,
                            scheduled_date=s.day,
                            shift_reason=s.reason,
                            not_before=s.not_before,
                            window_end=s.window_end,
                            due_by=s.due_by,
                            status=TaskStatus.OPEN,
                            assignee_role=spec.role,
                            created_at=now,
                            updated_at=now,
                        )
                    )
            FollowupTask.objects.bulk_create(tasks, batch_size=1000)
            _seal_by_client(tasks, "followup.task.generate", {"horizon": str(last_day)})
            made += len(tasks)
    return made, skipped


# --- 3. withdrawn consent, 4. escalation, 5. completion -------------------------------------


def _cancel_unconsented(institution_id: uuid.UUID, now: dt.datetime) -> int:
    cancelled = 0
    for channel in sorted(consent_gate.NEEDS_CONSENT):
        consenting = consent_gate.consent_in_force(channel=channel, at=now)
        with transaction.atomic():
            rows = list(
                FollowupTask.objects.select_for_update().filter(
                    ~consenting,
                    institution_id=institution_id,
                    channel=channel,
                    status__in=OPEN_STATUSES,
                )
            )
            for t in rows:
                t.status, t.closed_at, t.updated_at = TaskStatus.CANCELLED, now, now
                t.close_reason = "consent_withdrawn"
            FollowupTask.objects.bulk_update(
                rows, ["status", "closed_at", "close_reason", "updated_at"], batch_size=500
            )
            _seal_by_client(rows, "followup.task.cancel", {"reason": "consent_withdrawn"})
            cancelled += len(rows)
    return cancelled


def team_leads(team_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Each team's lead (组长: a membership with role `lead`; the earliest when several)."""
    leads: dict[uuid.UUID, uuid.UUID] = {}
    rows = (
        CareTeamMembership.objects.filter(
            care_team_id__in=list(team_ids), role=TeamRole.LEAD, user__is_active=True
        )
        .order_by("care_team_id", "created_at", "id")
        .values_list("care_team_id", "user_id")
    )
    for team_id, user_id in rows:
        leads.setdefault(team_id, user_id)
    return leads


def _escalate(institution_id: uuid.UUID, now: dt.datetime) -> int:
    with transaction.atomic():
        rows = list(
            FollowupTask.objects.select_for_update().filter(
                institution_id=institution_id,
                status__in=OPEN_STATUSES,
                due_by__lt=now,
                escalated_at__isnull=True,
            )
        )
        leads = team_leads({t.care_team_id for t in rows if t.care_team_id})
        for t in rows:
            t.escalated_at, t.updated_at = now, now
            t.escalated_to_id = leads.get(t.care_team_id)
        FollowupTask.objects.bulk_update(
            rows, ["escalated_at", "escalated_to", "updated_at"], batch_size=500
        )
        _seal_by_client(rows, "followup.task.escalate", {"reason": "sla_breached"})
    return len(rows)


def _complete(institution_id: uuid.UUID, today: dt.date, now: dt.datetime) -> int:
    """Enrolments whose last occurrence is past and that have no open task."""
    open_task = FollowupTask.objects.filter(enrolment_id=OuterRef("pk"), status__in=OPEN_STATUSES)
    candidates = (
        Enrolment.objects.filter(institution_id=institution_id, status=EnrolmentStatus.ACTIVE)
        .annotate(busy=Exists(open_task))
        .filter(busy=False)
        .values_list("id", "plan_version_id", "anchor_date")
    )
    rows = list(candidates.iterator(chunk_size=10000))
    if not rows:
        return 0
    specs = _specs({v for _i, v, _a in rows})
    finished = [i for i, v, a in rows if occurrences(specs[v].schedule, a)[-1] < today]
    for start in range(0, len(finished), BATCH):
        with transaction.atomic():
            chunk = Enrolment.objects.filter(
                id__in=finished[start : start + BATCH], status=EnrolmentStatus.ACTIVE
            )
            ids = list(chunk.select_for_update().values_list("id", flat=True))
            Enrolment.objects.filter(id__in=ids).update(
                status="completed", ended_at=now, end_reason="schedule_done", updated_at=now
            )
            done = list(Enrolment.objects.filter(id__in=ids))
            _seal_by_client(done, "followup.enrol.complete", {"reason": "schedule_done"})
    return len(finished)


# --- the run ---------------------------------------------------------------------------


def generate_institution(
    *, institution_id: uuid.UUID | str, now: dt.datetime | None = None, horizon: int | None = None
) -> RunSummary:
    """Everything the scheduler does for one institution (idempotent; acts as the system)."""
    institution_id = uuid.UUID(str(institution_id))
    now = now or timezone.now()
    today = local_today(now)
    horizon = settings.CARELEDGER_FOLLOWUP_HORIZON_DAYS if horizon is None else horizon
    summary = RunSummary()
    t0 = time.perf_counter()
    versions = PlanVersion.objects.filter(
        institution_id=institution_id, status=PlanStatus.PUBLISHED
    ).order_by("plan_id")
    for version in versions:
        enrolled, ended = _sync_plan(version, today=today, now=now)
        summary.enrolled += enrolled
        summary.ended += ended
    t1 = time.perf_counter()
    summary.tasks, summary.skipped_no_consent = _materialise(
        institution_id, today=today, now=now, horizon=horizon
    )
    t2 = time.perf_counter()
    summary.cancelled_consent = _cancel_unconsented(institution_id, now)
    summary.escalated = _escalate(institution_id, now)
    summary.completed = _complete(institution_id, today, now)
    t3 = time.perf_counter()
    summary.seconds = {"enrol": t1 - t0, "tasks": t2 - t1, "housekeeping": t3 - t2}
    return summary


__all__ = ["RunSummary", "generate_institution", "matching", "schedule_of", "team_leads"]
