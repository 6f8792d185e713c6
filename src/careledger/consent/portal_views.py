"""The client's own consents in the portal (/portal/consents/, phone-first): see what is in
force and the history, give a consent by reading the text and confirming with an SMS code,
withdraw one with a tap (as easy as giving it). No route takes a client id: every page acts on
the signed-in account's client.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.clients.validation import ValidationFailed
from careledger.consent import labels, selectors, services
from careledger.consent.models import Consent, ConsentText, TextStatus
from careledger.consent.views import flash_errors, partner_choices
from careledger.portal import rules
from careledger.portal.views import portal_login_required

CHALLENGE = "consent_challenge"


@portal_login_required
@require_http_methods(["GET"])
def my_consents(request: HttpRequest, account: Any) -> HttpResponse:
    data = selectors.my_consents(account)
    in_force = {c.purpose for c in data.in_force if not c.partner_key}
    offer = [
        data.texts[p]
        for p in labels.ORDER
        if p in data.texts and (p == "share_partner" or p not in in_force)
    ]
    return render(
        request,
        "consent/portal_list.html",
        {"data": data, "offer": offer, "purpose_labels": labels.purpose_labels()},
    )


def _text(account: Any, text_id: uuid.UUID) -> ConsentText:
    text = ConsentText.objects.filter(
        pk=text_id, institution_id=account.client.institution_id, status=TextStatus.PUBLISHED
    ).first()
    if text is None:
        raise Http404
    return text


@portal_login_required
@require_http_methods(["GET", "POST"])
def give(request: HttpRequest, account: Any) -> HttpResponse:
    try:
        text_id = uuid.UUID(request.GET.get("text") or request.POST.get("text") or "")
    except ValueError:
        return redirect(reverse("portal:consent:list"))
    text = _text(account, text_id)
    partners = (
        partner_choices(account.client.institution_id) if text.purpose == "share_partner" else []
    )
    if request.method == "POST":
        partner = request.POST.get("partner") or None
        try:
            if partner is not None:
                uuid.UUID(partner)
            challenge = services.do_start_portal_consent(
                account=account,
                text_id=text.id,
                partner_institution_id=partner,
                partner_name=dict(partners).get(partner or "", ""),
            )
        except (ValidationFailed, ValueError) as exc:
            if isinstance(exc, ValidationFailed):
                flash_errors(request, exc)
            return redirect(f"{reverse('portal:consent:give')}?text={text.id}")
        request.session[CHALLENGE] = str(challenge.id)
        return redirect(reverse("portal:consent:confirm"))
    return render(
        request,
        "consent/portal_give.html",
        {
            "t": text,
            "label": labels.purpose_labels().get(text.purpose, text.purpose),
            "partners": partners,
        },
    )


def _confirm_message(reason: str, tries_left: int) -> str:
    if reason == "wrong_code" and tries_left == 0:
        return _("Too many wrong codes. Please start again.")
    if reason == "wrong_code":
        return _("That code is not right. %(n)d tries left.") % {"n": tries_left}
    if reason == rules.EXPIRED:
        return _("The code has expired. Please start again.")
    if reason == rules.BURNT:
        return _("Too many wrong codes. Please start again.")
    return _("This confirmation is no longer open. Please start again.")


@portal_login_required
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, account: Any) -> HttpResponse:
    raw = request.session.get(CHALLENGE)
    if not raw:
        return redirect(reverse("portal:consent:list"))
    challenge_id = uuid.UUID(raw)
    error = ""
    finished = False
    if request.method == "POST":
        result = services.do_confirm_portal_consent(
            account=account, challenge_id=challenge_id, code=request.POST.get("code", "")
        )
        if result.ok:
            request.session.pop(CHALLENGE, None)
            messages.success(request, _("Thank you. Your consent is recorded and in force now."))
            return redirect(reverse("portal:consent:list"))
        error = _confirm_message(result.reason, result.tries_left)
        finished = result.reason != "wrong_code" or result.tries_left == 0
        if finished:
            request.session.pop(CHALLENGE, None)
    return render(
        request,
        "consent/portal_confirm.html",
        {
            "error": error,
            "finished": finished,
            "ttl_minutes": int(rules.CODE_TTL.total_seconds() // 60),
        },
        status=400 if error else 200,
    )


@portal_login_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, account: Any) -> HttpResponse:
    if request.method == "GET":  # the form lives on the list
        return redirect(reverse("portal:consent:list"))
    try:
        consent_id = uuid.UUID(request.POST.get("consent", ""))
        services.do_withdraw_portal(account=account, consent_id=consent_id)
    except ValueError:
        raise Http404 from None
    except Consent.DoesNotExist:
        raise Http404 from None
    except ValidationFailed as exc:
        flash_errors(request, exc)
        return redirect(reverse("portal:consent:list"))
    messages.success(request, _("Withdrawn. This takes effect immediately."))
    return redirect(reverse("portal:consent:list"))
