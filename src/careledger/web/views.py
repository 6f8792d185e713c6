"""Workbench shell: login, logout, home, language, care-team overview."""

from __future__ import annotations

import hashlib

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views.decorators.http import require_GET, require_POST

from careledger.access.enforce import actor_of
from careledger.institutions import selectors as institution_selectors
from careledger.ledger import services as ledger
from careledger.web.forms import StaffLoginForm


class StaffLoginView(LoginView):
    template_name = "web/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)  # rotates the session key (django.contrib.auth)
        with transaction.atomic():
            ledger.record(actor=actor_of(self.request.user), action="auth.login")
        return response

    def form_invalid(self, form):  # type: ignore[no-untyped-def]
        username = (form.data.get("username") or "").strip().lower()
        with transaction.atomic():
            ledger.record(
                actor=ledger.Actor(id="anonymous", role="anonymous", institution_id=""),
                action="auth.login",
                outcome=ledger.Outcome.DENIED,
                # A hash, so the ledger can group attempts on one name without storing it.
                detail={"username_sha256": hashlib.sha256(username.encode()).hexdigest()},
            )
        return super().form_invalid(form)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        with transaction.atomic():
            ledger.record(actor=actor_of(request.user), action="auth.logout")
    logout(request)
    return HttpResponseRedirect(reverse("web:login"))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    # What the page may offer comes from the `workbench` context processor (`can.*`).
    user = request.user
    context = {
        "my_teams": institution_selectors.teams_of(user),
        "stats": institution_selectors.workbench_stats(user),
    }
    return render(request, "web/home.html", context)


@login_required
def teams(request: HttpRequest) -> HttpResponse:
    overview = institution_selectors.institution_overview(request.user)
    return render(request, "web/teams.html", {"overview": overview})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    from django.conf import settings

    lang = request.POST.get("language", "")
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    if lang and check_for_language(lang):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            lang,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.HTTPS,
            httponly=True,
        )
    return response


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
