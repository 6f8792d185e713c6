"""Every write of the work queue: claim, assign, record an attempt's outcome, correct a record,
and request a call through the click-to-call gateway. Each is authorised against the task's
client (`followup.perform` / `followup.assign`, care team), runs in one transaction with the
task row locked, and seals what it wrote in one ledger event.

Outcomes drive the plan (随访结果 → 下一步):

* reached (已接通) — the task is done; the enrolment's run of failed attempts resets.
* no answer / busy / unreachable / wrong number — a failed attempt: the task stays open and
  moves to `next_date` (else the next working day); after the plan version's `max_attempts`
  failures in a row the client is **lost to follow-up** on that plan: the enrolment ends
  `lost`, its open tasks are cancelled.
* asked to be called back — the task stays open, moved to `next_date` (not a failure).
* refused — the task is done and the enrolment ends (`refused`); other plans are untouched.
* deceased — every active enrolment of the client ends and every open task is cancelled.

`next_action=escalate` flags the task for the team lead; `end_plan` ends the enrolment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.access.enforce import actor_of, require, team_ids
from careledger.access.roles import Action, permits
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.clients.validation import ValidationFailed
from careledger.followup import consent_gate, generation, telephony
from careledger.followup.models import (
    OPEN_STATUSES,
    CallRequest,
    Enrolment,
    EnrolmentStatus,
    FollowupRecord,
    FollowupTask,
    NextAction,
    Outcome,
    TaskStatus,
)
from careledger.followup.schedule import in_window, local_today, slot
from careledger.institutions.models import CareTeamMembership
from careledger.ledger import services as ledger
from careledger.request_context import current

PURPOSE = "care"
FAILED = frozenset({Outcome.NO_ANSWER, Outcome.BUSY, Outcome.UNREACHABLE, Outcome.WRONG_NUMBER})
MAX_NOTE = 4000


def _task(task_id: uuid.UUID) -> FollowupTask:
    return FollowupTask.objects.select_related("client").get(pk=task_id)


def check_task(*, actor: User, task_id: uuid.UUID, action: Action = Action.FOLLOWUP_PERFORM):
    """The task and its client, if the actor may act on it (else refused and ledgered)."""
    task = _task(task_id)
    decision = require(actor, action, client_scope(task.client), purpose=PURPOSE)
    if decision.emergency:  # break-glass opens reading, never work
        raise ValidationFailed({"task": [_("Not under emergency access.")]})
    return task


def _locked(task: FollowupTask) -> FollowupTask:
    return FollowupTask.objects.select_for_update().select_related("plan_version").get(pk=task.pk)


def _event(actor: User, action: str, task: FollowupTask, sealed: list, **detail: object) -> None:
    ledger.record(
        actor=actor_of(actor),
        action=action,
        purpose=PURPOSE,
        client_id=str(task.client_id),
        resource_type="Task",
        resource_id=str(task.id),
        detail={"channel": task.channel, **detail},
        sealed=sealed,
    )


def do_claim(*, actor: User, task_id: uuid.UUID) -> FollowupTask:
    task = check_task(actor=actor, task_id=task_id)
    now = timezone.now()
    with transaction.atomic():
        task = _locked(task)
        if task.status not in OPEN_STATUSES:
            raise ValidationFailed({"task": [_("This task is closed.")]})
        if task.assignee_id and task.assignee_id != actor.id:
            raise ValidationFailed({"task": [_("Someone else holds this task.")]})
        task.status, task.assignee, task.claimed_at, task.updated_at = "claimed", actor, now, now
        task.save()
        _event(actor, "followup.task.claim", task, [task])
    return task


def do_assign(*, actor: User, task_id: uuid.UUID, assignee_id: uuid.UUID) -> FollowupTask:
    task = check_task(actor=actor, task_id=task_id, action=Action.FOLLOWUP_ASSIGN)
    assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
    scope = client_scope(task.client)
    if (
        assignee is None
        or assignee.institution_id != task.institution_id
        or not permits(assignee.role, Action.FOLLOWUP_PERFORM)
        or not (team_ids(assignee) & scope.team_ids)
    ):
        raise ValidationFailed({"assignee": [_("Choose a colleague of the client's care team.")]})
    now = timezone.now()
    with transaction.atomic():
        task = _locked(task)
        if task.status not in OPEN_STATUSES:
            raise ValidationFailed({"task": [_("This task is closed.")]})
        task.status, task.assignee, task.claimed_at, task.updated_at = "claimed", assignee, now, now
        task.save()
        _event(actor, "followup.task.assign", task, [task], assignee=str(assignee.id))
    return task


def colleagues(task: FollowupTask) -> list[User]:
    """Who a task can be handed to: active performers of the client's care teams."""
    scope = client_scope(task.client)
    users = User.objects.filter(
        is_active=True,
        institution_id=task.institution_id,
        team_memberships__care_team_id__in=scope.team_ids,
    ).distinct()
    return [u for u in users.order_by("display_name") if permits(u.role, Action.FOLLOWUP_PERFORM)]


@dataclass(frozen=True)
class OutcomeInput:
    outcome: str
    next_action: str = NextAction.NONE
    next_date: dt.date | None = None
    note: str = ""
    questionnaire_response_id: uuid.UUID | None = None


def clean_outcome(data: OutcomeInput, *, today: dt.date) -> OutcomeInput:
    errors: dict[str, list[str]] = {}
    if data.outcome not in Outcome.values:
        errors["outcome"] = [_("Choose an outcome.")]
    if data.next_action not in NextAction.values:
        errors["next_action"] = [_("Choose the next action.")]
    needs_date = data.next_action == NextAction.RESCHEDULE or data.outcome == Outcome.CALLBACK
    if needs_date and data.next_date is None:
        errors["next_date"] = [_("Give the date of the next contact.")]
    if data.next_date is not None and not today <= data.next_date <= today + dt.timedelta(366):
        errors["next_date"] = [_("The next contact must be within the coming year.")]
    if len(data.note) > MAX_NOTE:
        errors["note"] = [_("The note is too long (at most 4000 characters).")]
    if errors:
        raise ValidationFailed(errors)
    return data


def _move(task: FollowupTask, day: dt.date) -> None:
    v = task.plan_version
    s = slot(day, frozenset(v.weekdays or [1, 2, 3, 4, 5]), v.call_start, v.call_end, v.sla_hours)
    task.scheduled_date, task.shift_reason = s.day, s.reason
    task.not_before, task.window_end, task.due_by = s.not_before, s.window_end, s.due_by
    task.escalated_at = None
    task.escalated_to = None


def do_record_outcome(*, actor: User, task_id: uuid.UUID, data: OutcomeInput) -> FollowupRecord:
    task = check_task(actor=actor, task_id=task_id)
    now = timezone.now()
    today = local_today(now)
    data = clean_outcome(data, today=today)
    with transaction.atomic():
        task = _locked(task)
        if task.status not in OPEN_STATUSES:
            raise ValidationFailed({"task": [_("This task is closed.")]})
        enrolment = Enrolment.objects.select_for_update().get(pk=task.enrolment_id)
        task.attempts += 1
        record = FollowupRecord(
            id=uuid.uuid4(),
            institution_id=task.institution_id,
            client_id=task.client_id,
            task=task,
            attempt=task.attempts,
            channel=task.channel,
            outcome=data.outcome,
            next_action=data.next_action,
            next_date=data.next_date,
            note=data.note.strip(),
            questionnaire_response_id=data.questionnaire_response_id,
            recorded_by=actor,
            recorded_at=now,
        )
        record.save()
        ended: list = []
        close = data.outcome in (Outcome.REACHED, Outcome.REFUSED, Outcome.DECEASED)
        if data.outcome == Outcome.REACHED:
            enrolment.failed_attempts = 0
        elif data.outcome in FAILED:
            enrolment.failed_attempts += 1
        lost = enrolment.failed_attempts >= task.plan_version.max_attempts
        if close or lost:
            task.status, task.closed_at = TaskStatus.DONE, now
            task.close_reason = "lost" if lost and not close else data.outcome
        else:
            task.status = TaskStatus.CLAIMED if task.assignee_id else TaskStatus.OPEN
            _move(task, data.next_date or today + dt.timedelta(days=1))
        if data.next_action == NextAction.ESCALATE and task.status in OPEN_STATUSES:
            task.escalated_at = now
            task.escalated_to_id = generation.team_leads([task.care_team_id]).get(task.care_team_id)
        task.updated_at = now
        task.save()
        enrolment.save()
        if data.outcome == Outcome.DECEASED:
            others = list(
                Enrolment.objects.select_for_update().filter(
                    client_id=task.client_id, status=EnrolmentStatus.ACTIVE
                )
            )
            ended = generation._end(others, EnrolmentStatus.ENDED, "deceased", now)
        elif lost:
            ended = generation._end([enrolment], EnrolmentStatus.LOST, "lost_to_followup", now)
        elif data.outcome == Outcome.REFUSED or data.next_action == NextAction.END_PLAN:
            reason = "refused" if data.outcome == Outcome.REFUSED else "ended_by_staff"
            ended = generation._end([enrolment], EnrolmentStatus.ENDED, reason, now)
        ended_ids = {r.pk for r in ended}
        sealed = [record, task, *ended, *([] if enrolment.pk in ended_ids else [enrolment])]
        _event(
            actor,
            "followup.record.create",
            task,
            sealed,
            outcome=data.outcome,
            next_action=data.next_action,
            attempt=record.attempt,
            lost=lost,
        )
    return record


def do_correct_record(
    *, actor: User, record_id: uuid.UUID, note: str, questionnaire_response_id: uuid.UUID | None
) -> FollowupRecord:
    """A correction of a record's note or linked questionnaire: version n+1, n kept sealed.
    The outcome itself is not rewritten (it already moved the plan); record a new attempt."""
    old = FollowupRecord.objects.select_related("task__client").get(pk=record_id)
    require(actor, Action.FOLLOWUP_PERFORM, client_scope(old.task.client), purpose=PURPOSE)
    if len(note) > MAX_NOTE:
        raise ValidationFailed({"note": [_("The note is too long (at most 4000 characters).")]})
    now = timezone.now()
    with transaction.atomic():
        old = FollowupRecord.objects.select_for_update().get(pk=record_id)
        if not old.is_current:
            raise ValidationFailed({"record": [_("A newer version of this record exists.")]})
        old.is_current = False
        old.save(update_fields=["is_current"])
        new = FollowupRecord(
            id=uuid.uuid4(),
            institution_id=old.institution_id,
            client_id=old.client_id,
            task_id=old.task_id,
            attempt=old.attempt,
            version=old.version + 1,
            channel=old.channel,
            outcome=old.outcome,
            next_action=old.next_action,
            next_date=old.next_date,
            note=note.strip(),
            questionnaire_response_id=questionnaire_response_id,
            recorded_by=actor,
            recorded_at=now,
        )
        new.save()
        ledger.record(
            actor=actor_of(actor),
            action="followup.record.correct",
            purpose=PURPOSE,
            client_id=str(old.client_id),
            resource_type="Communication",
            resource_id=str(new.id),
            detail={"version": new.version, "supersedes": str(old.id)},
            sealed=[new, old],
        )
    return new


@dataclass(frozen=True)
class CallResult:
    ok: bool
    status: str
    reason: str = ""


def do_request_call(*, actor: User, task_id: uuid.UUID) -> CallResult:
    """Dial the client through the click-to-call gateway. The number is decrypted here, inside
    the gateway call, and goes nowhere else. Refused outside the call window (quiet hours) and
    when the client's phone consent is not in force (the task is then cancelled)."""
    task = check_task(actor=actor, task_id=task_id)
    now = timezone.now()
    if task.channel != "phone":
        raise ValidationFailed({"task": [_("This task is not a phone follow-up.")]})
    v = task.plan_version
    if not in_window(now, v.call_start, v.call_end):
        raise ValidationFailed({"task": [_("Quiet hours: calls are made during the call window.")]})
    if not consent_gate.may_contact(client_id=task.client_id, channel="phone", at=now):
        with transaction.atomic():
            task = _locked(task)
            task.status, task.closed_at, task.close_reason = "cancelled", now, "consent_withdrawn"
            task.updated_at = now
            task.save()
            _event(actor, "followup.task.cancel", task, [task], reason="consent_withdrawn")
        return CallResult(False, "cancelled", "consent_withdrawn")
    gateway = telephony.backend()
    ctx = current()
    request_id = ctx.request_id if ctx else uuid.uuid4().hex
    number = Client.objects.only("id", "phone").get(pk=task.client_id).phone
    try:
        answer = gateway.dial(
            telephony.CallOrder(
                request_id=request_id,
                agent_id=str(actor.id),
                client_id=str(task.client_id),
                number=number,
            )
        )
        status, reason, ref = answer.status, "", answer.provider_ref
    except telephony.CallFailed as exc:
        status, reason, ref = "failed", exc.code, ""
    del number
    with transaction.atomic():
        call = CallRequest.objects.create(
            institution_id=task.institution_id,
            client_id=task.client_id,
            task=task,
            requested_by=actor,
            backend=gateway.name,
            status=status,
            provider_ref=ref,
            requested_at=now,
        )
        _event(actor, "followup.call.request", task, [call], backend=gateway.name, status=status)
    return CallResult(status != "failed", status, reason)


def is_lead(user: User, team_id: uuid.UUID | None) -> bool:
    if team_id is None:
        return False
    return CareTeamMembership.objects.filter(user=user, care_team_id=team_id, role="lead").exists()
