"""Follow-up plans for the institution admin (under /config/followup-plans/): configuration,
counts only, never a client. Thin: the form is read into the plain values `plans.clean_plan`
checks, and one plan service does each write."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.clients.validation import ValidationFailed
from careledger.followup import plan_services, selectors
from careledger.followup.models import (
    AssigneeRole,
    Channel,
    Frequency,
    PlanVersion,
    TriggerKind,
)

PARAMS = ("tag", "code", "model", "levels", "within_days", "instrument", "min_score")


def read_form(post: Any) -> dict[str, Any]:
    params = {name: post.get(f"p_{name}", "").strip() for name in PARAMS}
    return {
        "trigger_kind": post.get("trigger_kind", ""),
        "trigger_params": {k: v for k, v in params.items() if v != ""},
        "first_days": post.get("first_days", "7"),
        "repeat_frequency": post.get("repeat_frequency", "none"),
        "repeat_interval": post.get("repeat_interval", "1") or "1",
        "repeat_count": post.get("repeat_count", "0") or "0",
        "channel": post.get("channel", ""),
        "script": post.get("script", ""),
        "questionnaire_code": post.get("questionnaire_code", ""),
        "assignee_role": post.get("assignee_role", ""),
        "sla_hours": post.get("sla_hours", "48"),
        "max_attempts": post.get("max_attempts", "3"),
        "call_start": post.get("call_start", "09:00"),
        "call_end": post.get("call_end", "20:00"),
        "weekdays": post.getlist("weekdays") or [1, 2, 3, 4, 5],
    }


def _choices() -> dict[str, Any]:
    return {
        "triggers": TriggerKind.choices,
        "frequencies": Frequency.choices,
        "channels": Channel.choices,
        "roles": AssigneeRole.choices,
        "weekday_names": [
            (1, _("Mon")),
            (2, _("Tue")),
            (3, _("Wed")),
            (4, _("Thu")),
            (5, _("Fri")),
            (6, _("Sat")),
            (7, _("Sun")),
        ],
    }


@login_required
@require_http_methods(["GET", "POST"])
def plan_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            version = plan_services.do_create_plan(
                actor=request.user,
                code=request.POST.get("code", ""),
                name_zh=request.POST.get("name_zh", ""),
                name_en=request.POST.get("name_en", ""),
                data=read_form(request.POST),
            )
        except ValidationFailed as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    messages.error(request, f"{field}: {error}")
            return redirect(reverse("followup_config:plans"))
        messages.success(request, _("Plan created as a draft."))
        return redirect(reverse("followup_config:version", args=[version.id]))
    rows = selectors.plans(request.user)
    return render(request, "followup/config_plans.html", {"rows": rows, **_choices()})


@login_required
@require_http_methods(["GET", "POST"])
def version_page(request: HttpRequest, version_id: uuid.UUID) -> HttpResponse:
    try:
        version = selectors.plan_version(request.user, version_id)
    except PlanVersion.DoesNotExist as exc:
        raise Http404 from exc
    here = reverse("followup_config:version", args=[version.id])
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "save":
                plan_services.do_update_draft(
                    actor=request.user, version_id=version.id, data=read_form(request.POST)
                )
                messages.success(request, _("Draft saved."))
            elif op == "publish":
                plan_services.do_publish(actor=request.user, version_id=version.id)
                messages.success(request, _("Published: clients are enrolled at the next run."))
            elif op == "retire":
                plan_services.do_retire(actor=request.user, version_id=version.id)
                messages.success(request, _("Retired: no new enrolments."))
            elif op == "draft":
                draft = plan_services.do_new_draft(actor=request.user, plan_id=version.plan_id)
                return redirect(reverse("followup_config:version", args=[draft.id]))
        except ValidationFailed as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    messages.error(request, f"{field}: {error}")
        return redirect(here)
    return render(
        request,
        "followup/config_version.html",
        {"v": version, "editable": version.status == "draft", **_choices()},
    )
