"""Admin pages for consent texts under /config/consents/ (configuration: no client data).

The list shows every purpose with its published text and drafts; a draft can be edited and
published (which retires the previous version); a published text is shown read-only, with its
SHA-256, and can be retired or followed by a new draft version.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from careledger.clients.validation import ValidationFailed
from careledger.consent import labels, text_services
from careledger.consent.models import ConsentText
from careledger.consent.views import flash_errors


@login_required
@require_http_methods(["GET", "POST"])
def text_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            draft = text_services.do_create_draft(
                actor=request.user,  # type: ignore[arg-type]
                purpose=request.POST.get("purpose", ""),
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
            )
        except ValidationFailed as exc:
            flash_errors(request, exc)
            return redirect(reverse("consent_config:list"))
        messages.success(request, _("Draft saved. Check it, then publish it."))
        return redirect(reverse("consent_config:text", args=[draft.id]))
    texts = text_services.texts_for(request.user)  # type: ignore[arg-type]
    names = labels.purpose_labels()
    groups = [
        {"purpose": p, "label": names[p], "texts": [t for t in texts if t.purpose == p]}
        for p in labels.ORDER
    ]
    return render(request, "consent/config_list.html", {"groups": groups})


@login_required
@require_http_methods(["GET", "POST"])
def text_page(request: HttpRequest, text_id: uuid.UUID) -> HttpResponse:
    try:
        text = text_services.text_for(request.user, text_id)  # type: ignore[arg-type]
    except ConsentText.DoesNotExist:
        raise Http404 from None
    if request.method == "POST":
        try:
            text_services.do_update_draft(
                actor=request.user,  # type: ignore[arg-type]
                text_id=text.id,
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
            )
            messages.success(request, _("Draft saved."))
        except ValidationFailed as exc:
            flash_errors(request, exc)
        return redirect(reverse("consent_config:text", args=[text.id]))
    return render(
        request,
        "consent/config_text.html",
        {"t": text, "purpose_label": labels.purpose_labels().get(text.purpose, text.purpose)},
    )


def _transition(request: HttpRequest, text_id: uuid.UUID, op: str) -> HttpResponse:
    try:
        if op == "publish":
            text_services.do_publish(actor=request.user, text_id=text_id)  # type: ignore[arg-type]
            messages.success(request, _("Published. New consents are given against this version."))
        else:
            text_services.do_retire(actor=request.user, text_id=text_id)  # type: ignore[arg-type]
            messages.success(request, _("Retired. Consents already given stay in force."))
    except ValidationFailed as exc:
        flash_errors(request, exc)
    except ConsentText.DoesNotExist:
        pass
    return redirect(reverse("consent_config:text", args=[text_id]))


@login_required
@require_POST
def publish(request: HttpRequest, text_id: uuid.UUID) -> HttpResponse:
    text_services.check_can_manage(request.user)  # type: ignore[arg-type]
    return _transition(request, text_id, "publish")


@login_required
@require_POST
def retire(request: HttpRequest, text_id: uuid.UUID) -> HttpResponse:
    text_services.check_can_manage(request.user)  # type: ignore[arg-type]
    return _transition(request, text_id, "retire")
