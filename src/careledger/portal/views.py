"""Portal pages: sign in with a code, the client's own card, and who accessed their record.

Thin: parse, call one service or selector, render. No route takes a client id; every page
acts on the signed-in account's client (see `selectors`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careledger.membership.selectors import my_membership
from careledger.portal import rules, selectors, services
from careledger.portal.forms import CodeForm, PhoneForm
from careledger.web.middleware import client_ip

CHALLENGE = "portal_challenge"


def portal_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in as a portal user with an active account; the account is passed to the view."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        try:
            account = selectors.check_portal_user(request.user)  # type: ignore[arg-type]
        except selectors.PortalDenied:
            return render(request, "portal/denied.html", status=403)
        return view(request, account, *args, **kwargs)

    return wrapper


def _login_backend() -> str:
    # The configured backend that can load the user back from the session.
    return settings.AUTHENTICATION_BACKENDS[0]


def _rate_message(reason: str, seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    if reason == "phone_interval":
        return ngettext(
            "A code was sent to this number moments ago. Please wait %(seconds)d second "
            "before asking for another.",
            "A code was sent to this number moments ago. Please wait %(seconds)d seconds "
            "before asking for another.",
            seconds,
        ) % {"seconds": seconds}
    if reason == "phone_hourly":
        return ngettext(
            "Too many codes were asked for this number. Please try again in %(minutes)d minute.",
            "Too many codes were asked for this number. Please try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
    return ngettext(
        "Too many codes were asked for from your network. Please try again in %(minutes)d minute.",
        "Too many codes were asked for from your network. Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


@require_http_methods(["GET", "POST"])
def login_phone(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("portal:home"))
    form = PhoneForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        result = services.do_request_code(
            institution_id=uuid.UUID(form.cleaned_data["institution"]),
            phone=form.cleaned_data["phone"],
            ip=client_ip(request),
        )
        if result.outcome == services.SENT:
            request.session[CHALLENGE] = str(result.challenge_id)
            return HttpResponseRedirect(reverse("portal:code"))
        form.add_error(None, _rate_message(result.reason, result.retry_after))
        status = 429
    elif request.method == "POST":
        services.do_record_malformed_request(institution_id=form.cleaned_data.get("institution"))
    return render(request, "portal/login.html", {"form": form}, status=status)


def _verify_message(reason: str, tries_left: int) -> str:
    if reason == "wrong_code":
        return ngettext(
            "The code is not correct. You have %(tries)d more try with this code.",
            "The code is not correct. You have %(tries)d more tries with this code.",
            tries_left,
        ) % {"tries": tries_left}
    if reason == rules.EXPIRED:
        return _("This code has expired. Please ask for a new one.")
    if reason == rules.USED:
        return _("This code has already been used. Please ask for a new one.")
    if reason == rules.BURNT:
        return _(
            "The code was entered wrongly too many times and no longer works. "
            "Please ask for a new one."
        )
    return _("Please ask for a new code.")


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("portal:home"))
    raw_id = request.session.get(CHALLENGE)
    if not raw_id:
        return HttpResponseRedirect(reverse("portal:login"))
    form = CodeForm(request.POST or None)
    finished = False
    status = 200
    if request.method == "POST" and form.is_valid():
        result = services.do_verify_code(
            challenge_id=uuid.UUID(raw_id), code=form.cleaned_data["code"]
        )
        if result.ok and result.user is not None:
            login(request, result.user, backend=_login_backend())  # rotates the session key
            request.session.pop(CHALLENGE, None)
            return HttpResponseRedirect(reverse("portal:home"))
        form.add_error(None, _verify_message(result.reason, result.tries_left))
        finished = result.reason != "wrong_code"
        if finished:
            request.session.pop(CHALLENGE, None)
        status = 400
    context = {"form": form, "finished": finished, "ttl_minutes": rules.CODE_TTL.seconds // 60}
    return render(request, "portal/code.html", context, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.do_logout(user=request.user)  # type: ignore[arg-type]
    logout(request)
    return HttpResponseRedirect(reverse("portal:login"))


@require_GET
@portal_login_required
def home(request: HttpRequest, account: Any) -> HttpResponse:
    profile, recent = selectors.my_profile(account)
    membership = my_membership(account)  # card year and balances (careledger.membership)
    context = {"profile": profile, "recent": recent, "membership": membership}
    return render(request, "portal/home.html", context)


@require_GET
@portal_login_required
def access_log(request: HttpRequest, account: Any) -> HttpResponse:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    include_mine = request.GET.get("mine") == "1"
    page_obj, rows = selectors.access_log(account, page=page, include_mine=include_mine)
    context = {"page": page_obj, "rows": rows, "include_mine": include_mine}
    return render(request, "portal/access_log.html", context)


@require_GET
@portal_login_required
def receipt(request: HttpRequest, account: Any, seq: int) -> HttpResponse:
    try:
        data = selectors.receipt(account, seq)
    except selectors.NotYourEntry:
        return render(request, "portal/not_found.html", status=404)
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="careledger-receipt-{seq}.json"'
    return response
