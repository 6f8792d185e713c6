"""Staff consent pages (知情同意) under /clients/<id>/consents/: thin — one selector to read, one
service to write. GET lists what is in force and the full history; POST `give` records a
consent given at the desk (paper form or recording, with its reference), POST `withdraw`
records a withdrawal the client asked for; `fhir/` downloads the history as a FHIR Bundle.
"""

from __future__ import annotations

import json
import uuid

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from careledger.access.roles import Action, permits
from careledger.clients import selectors as client_selectors
from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed
from careledger.consent import labels, selectors, services
from careledger.consent.models import Consent, Method


def partner_choices(institution_id: uuid.UUID) -> list[tuple[str, str]]:
    """The institution's active partner institutions, if the sharing app is installed."""
    if not apps.is_installed("careledger.sharing"):
        return []
    partner = apps.get_model("sharing", "Partner")
    rows = partner.objects.filter(institution_id=institution_id, is_active=True).order_by("name")
    return [(str(p.id), p.name) for p in rows]


def flash_errors(request: HttpRequest, exc: ValidationFailed) -> None:
    for field, codes in exc.errors.items():
        for code in codes:
            messages.error(request, labels.error(field, code))


def _give(request: HttpRequest, client_id: uuid.UUID) -> None:
    partner = request.POST.get("partner") or None
    names = dict(partner_choices(request.user.institution_id))  # type: ignore[union-attr]
    try:
        text_id = uuid.UUID(request.POST.get("text", ""))
        if partner is not None:
            uuid.UUID(partner)
    except ValueError:
        raise ValidationFailed({"text": ["not_published"]}) from None
    services.do_record(
        actor=request.user,  # type: ignore[arg-type]
        client_id=client_id,
        text_id=text_id,
        method=request.POST.get("method", ""),
        reference=request.POST.get("reference", ""),
        partner_institution_id=partner,
        partner_name=names.get(partner or "", ""),
    )
    messages.success(request, _("The consent is recorded and in force from now."))


def _withdraw(request: HttpRequest, client_id: uuid.UUID) -> None:
    try:
        consent_id = uuid.UUID(request.POST.get("consent", ""))
    except ValueError:
        raise Http404 from None
    if not Consent.objects.filter(pk=consent_id, client_id=client_id).exists():
        raise Http404
    services.do_withdraw(
        actor=request.user,  # type: ignore[arg-type]
        consent_id=consent_id,
        method=request.POST.get("method", ""),
        reference=request.POST.get("reference", ""),
    )
    messages.success(request, _("The consent is withdrawn, effective immediately."))


@login_required
@require_http_methods(["GET", "POST"])
def client_consents(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404
    if request.method == "POST":
        try:
            if request.POST.get("action") == "withdraw":
                _withdraw(request, client_id)
            else:
                _give(request, client_id)
        except ValidationFailed as exc:
            flash_errors(request, exc)
        return redirect(reverse("consent:client", args=[client_id]))
    data = selectors.client_consents(request.user, client_id)  # type: ignore[arg-type]
    client = client_selectors.get_client(request.user, client_id)  # type: ignore[arg-type]
    in_force = {(c.purpose, c.partner_key) for c in data.in_force}
    offer = [
        t
        for purpose, t in sorted(data.texts.items(), key=lambda kv: labels.ORDER.index(kv[0]))
        if purpose == "share_partner" or (purpose, "") not in in_force
    ]
    return render(
        request,
        "consent/client.html",
        {
            "c": client,
            "data": data,
            "offer": offer,
            "purpose_labels": labels.purpose_labels(),
            "methods": [(m.value, m.label) for m in (Method.PAPER, Method.RECORDING)],
            "partners": partner_choices(data.client.institution_id),
            "can_record": permits(request.user.role, Action.CONSENT_RECORD) and not data.emergency,  # type: ignore[union-attr]
        },
    )


@login_required
@require_GET
def client_consents_fhir(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404
    bundle = selectors.client_consents_fhir(request.user, client_id)  # type: ignore[arg-type]
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=2), content_type="application/fhir+json"
    )
    response["Content-Disposition"] = f'attachment; filename="consents-{client_id}.json"'
    return response
