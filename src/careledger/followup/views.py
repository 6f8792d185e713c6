"""Follow-up pages for staff: thin — parse, call one selector or service, render.

* `followup/` the work queue (随访工作台): mine or my teams', filtered by due, channel, tag, plan;
* `followup/tasks/<task>/` perform one task: the script and the questionnaire side by side,
  click-to-call, the outcome form, the attempts so far; POST `op=claim|assign|call|record`;
* `clients/<client>/followup/` one client's plans, tasks and follow-up records (随访记录).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from careledger.access.roles import Action, permits
from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed
from careledger.followup import selectors, services
from careledger.followup.models import Channel, FollowupTask, NextAction, Outcome


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw or "")
    except ValueError:
        return None


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw or "")
    except ValueError:
        return None


def _errors(request: HttpRequest, exc: ValidationFailed) -> None:
    for errors in exc.errors.values():
        for error in errors:
            messages.error(request, error)


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = selectors.QueueFilters(
        scope="team" if g.get("scope") == "team" else "mine",
        due=g.get("due") if g.get("due") in selectors.DUE_FILTERS else "all",
        channel=g.get("channel") if g.get("channel") in Channel.values else "",
        tag=(g.get("tag") or "").strip()[:40],
        plan=_uuid(g.get("plan")),
    )
    try:
        page_no = max(1, int(g.get("page", "1")))
    except ValueError:
        page_no = 1
    page, rows = selectors.queue(request.user, filters, page=page_no, language=get_language())
    return render(
        request,
        "followup/queue.html",
        {
            "page": page,
            "rows": rows,
            "f": filters,
            "channels": Channel.choices,
            "plans": selectors.plan_choices(request.user),
            "due_choices": [
                ("all", _("All open")),
                ("today", _("Due today")),
                ("overdue", _("Overdue")),
                ("upcoming", _("Upcoming")),
            ],
        },
    )


def _outcome_input(request: HttpRequest) -> services.OutcomeInput:
    p = request.POST
    return services.OutcomeInput(
        outcome=p.get("outcome", ""),
        next_action=p.get("next_action", NextAction.NONE),
        next_date=_date(p.get("next_date")),
        note=p.get("note", ""),
        questionnaire_response_id=_uuid(p.get("questionnaire_response")),
    )


@login_required
@require_http_methods(["GET", "POST"])
def perform(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    if not FollowupTask.objects.filter(pk=task_id).exists():
        raise Http404
    here = reverse("followup:perform", args=[task_id])
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "claim":
                services.do_claim(actor=request.user, task_id=task_id)
                messages.success(request, _("The task is yours."))
            elif op == "assign":
                assignee = _uuid(request.POST.get("assignee"))
                if assignee is None:
                    raise ValidationFailed({"assignee": [_("Choose a colleague.")]})
                services.do_assign(actor=request.user, task_id=task_id, assignee_id=assignee)
                messages.success(request, _("The task was handed over."))
            elif op == "call":
                result = services.do_request_call(actor=request.user, task_id=task_id)
                if result.ok:
                    messages.success(request, _("Call requested: your phone will ring first."))
                elif result.reason == "consent_withdrawn":
                    messages.error(
                        request,
                        _("The client has withdrawn consent to phone follow-up; task cancelled."),
                    )
                else:
                    messages.error(request, _("The call could not be placed."))
            elif op == "record":
                services.do_record_outcome(
                    actor=request.user, task_id=task_id, data=_outcome_input(request)
                )
                messages.success(request, _("Follow-up recorded."))
            elif op == "correct":
                record_id = _uuid(request.POST.get("record"))
                if record_id is None:
                    raise ValidationFailed({"record": [_("Choose a record.")]})
                services.do_correct_record(
                    actor=request.user,
                    record_id=record_id,
                    note=request.POST.get("note", ""),
                    questionnaire_response_id=_uuid(request.POST.get("questionnaire_response")),
                )
                messages.success(request, _("Record corrected; the earlier version is kept."))
            else:
                messages.error(request, _("Unknown action."))
        except ValidationFailed as exc:
            _errors(request, exc)
        return redirect(here)
    detail = selectors.task_detail(request.user, task_id, language=get_language())
    user = request.user
    task = detail.task
    open_task = task.status in ("open", "claimed")
    may_perform = permits(user.role, Action.FOLLOWUP_PERFORM) and not detail.emergency
    return render(
        request,
        "followup/perform.html",
        {
            "d": detail,
            "t": task,
            "open_task": open_task,
            "may_perform": may_perform and open_task,
            "may_claim": may_perform and open_task and task.assignee_id in (None, user.id),
            "may_assign": permits(user.role, Action.FOLLOWUP_ASSIGN) and open_task,
            "colleagues": services.colleagues(task)
            if permits(user.role, Action.FOLLOWUP_ASSIGN) and open_task
            else [],
            "outcomes": Outcome.choices,
            "next_actions": NextAction.choices,
        },
    )


@login_required
@require_GET
def client_page(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404
    data = selectors.client_followup(request.user, client_id)
    return render(
        request,
        "followup/client.html",
        {"data": data, "client_id": client_id, "outcomes": dict(Outcome.choices)},
    )
