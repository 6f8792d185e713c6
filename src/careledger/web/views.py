"""Workbench shell: login, logout, home, language, care-team overview."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import login as auth_login
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views.decorators.http import require_GET, require_POST

from careledger.accounts import lockout, mfa
from careledger.accounts import services as account_services
from careledger.institutions import selectors as institution_selectors
from careledger.web.forms import StaffLoginForm


class StaffLoginView(LoginView):
    """Password first (lockout-aware, see careledger.accounts.backends), then MFA for staff.

    Every failure — unknown name, wrong password, disabled or portal account, locked out —
    renders this same page with the same message and status; the lockout rule is stated on
    every failed attempt rather than only to the locked.
    """

    template_name = "web/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):  # type: ignore[no-untyped-def]
        context = super().get_context_data(**kwargs)
        context["lockout_limit"] = lockout.failure_limit()
        context["lockout_minutes"] = lockout.cool_off_minutes()
        return context

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        user = form.get_user()
        auth_login(self.request, user)  # rotates the session key; stamps the session epoch
        account_services.record_password_login(user=user)
        target = self.get_success_url()
        if mfa.needs_mfa(user):
            target = reverse("accounts:mfa_verify") + "?" + urlencode({"next": target})
        return HttpResponseRedirect(target)

    def form_invalid(self, form):  # type: ignore[no-untyped-def]
        request = self.request
        failures = getattr(request, "axes_failures_since_start", 0) or 0
        account_services.record_login_failure(
            username=form.data.get("username") or "",
            locked_now=bool(getattr(request, "axes_locked_out", False))
            and failures == lockout.failure_limit(),
        )
        return super().form_invalid(form)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        account_services.record_logout(user=request.user)  # type: ignore[arg-type]
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
