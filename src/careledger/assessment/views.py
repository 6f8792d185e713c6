"""The risk page (疾病风险评估) of one client: thin — one selector for what is stored, one
service for a new run or for facts the clinician gives.

GET shows every model's current result with its inputs and their sources; POST `action=assess`
runs every model again now; POST `action=facts` records the facts the record cannot give
(on BP treatment, vegetables every day, …) and assesses again with them.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.access.enforce import AccessDenied
from careledger.access.roles import Action, permits
from careledger.assessment import selectors, services
from careledger.clients import selectors as client_selectors
from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed

# The facts the form offers, in order: (name, label) — yes/no unless listed in CHOICES.
FORM_FACTS = (
    "bp_treated",
    "diabetes",
    "smoker",
    "family_ascvd",
    "family_diabetes",
    "active_30min_daily",
    "vegetables_daily",
    "ever_high_glucose",
)


def fact_labels() -> dict[str, str]:
    return {
        "bp_treated": _("Taking blood-pressure medication"),
        "diabetes": _("Diagnosed diabetes"),
        "smoker": _("Current smoker"),
        "family_ascvd": _("Parent or sibling with coronary heart disease or stroke"),
        "family_diabetes": _("Relatives with diabetes"),
        "active_30min_daily": _("At least 30 minutes of physical activity every day"),
        "vegetables_daily": _("Eats vegetables, fruit or berries every day"),
        "ever_high_glucose": _("Ever found to have high blood glucose"),
    }


def family_choices() -> list[tuple[str, str]]:
    return [
        ("none", _("None")),
        ("second", _("Grandparent, aunt, uncle or cousin")),
        ("first", _("Parent, brother, sister or child")),
    ]


_CALM = {"low", "normal", "minimal", "ideal", "appropriate", "g1", "none", "absent", "no"}
_DANGER = {
    "high",
    "very_high",
    "severe",
    "moderately_severe",
    "grade2",
    "grade3",
    "obese",
    "diabetes",
    "g3a",
    "g3b",
    "g4",
    "g5",
    "present",
    "ogtt_advised",
}


def tone(risk: selectors.RiskView) -> str:
    """The badge colour of a result: calm, caution or danger (not-applicable is muted)."""
    if not risk.applicable:
        return "muted"
    if risk.level in _CALM:
        return "calm"
    return "danger" if risk.level in _DANGER else "caution"


def _parse_facts(request: HttpRequest) -> dict[str, object]:
    data: dict[str, object] = {}
    for name in FORM_FACTS:
        raw = request.POST.get(name, "")
        if name in services.CHOICES:
            data[name] = raw or None
        else:
            data[name] = {"yes": True, "no": False}.get(raw)
    return data


@login_required
@require_http_methods(["GET", "POST"])
def client_risk(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action", "assess")
        try:
            if action == "facts":
                summary = services.do_supply_facts(
                    actor=request.user, client_id=client_id, data=_parse_facts(request)
                )
            else:
                summary = services.do_assess_client(actor=request.user, client_id=client_id)
        except ValidationFailed as exc:
            for errors in exc.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(reverse("assessment:risk", args=[client_id]))
        messages.success(
            request,
            _("Assessed again: %(n)d result(s) changed.") % {"n": summary.written}
            if summary.written
            else _("Assessed again: nothing changed."),
        )
        return redirect(reverse("assessment:risk", args=[client_id]))
    try:
        data = selectors.client_risks(request.user, client_id)
    except AccessDenied as exc:
        if exc.decision.reason == "not_in_care_team" and permits(
            request.user.role, Action.BREAK_GLASS
        ):
            return render(
                request, "clients/break_glass_offer.html", {"client_id": client_id}, status=403
            )
        raise
    client = client_selectors.get_client(request.user, client_id)
    labels = fact_labels()
    can_assess = permits(request.user.role, Action.RISK_ASSESS) and not data.emergency
    return render(
        request,
        "assessment/risk.html",
        {
            "c": client,
            "data": data,
            "models": [(r, tone(r)) for r in data.models],
            "classifications": [(r, tone(r)) for r in data.classifications],
            "can_assess": can_assess,
            "facts": [
                {
                    "name": name,
                    "label": labels[name],
                    "value": data.supplied.get(name),
                    "choices": family_choices() if name in services.CHOICES else None,
                }
                for name in FORM_FACTS
            ],
        },
    )
