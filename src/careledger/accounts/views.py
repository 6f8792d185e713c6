"""A user's own account: MFA after the password, enrolment, step-up, backup codes, password,
"log out everywhere", and the reset-link pages. Thin: parse, call a service, render.

Pages reached before MFA (verify, enrol, reset) use the bare layout; the rest the workbench.
A successful MFA rotates the session key again (the session just gained privilege) and marks
MFA fresh for step-up.
"""

from __future__ import annotations

from typing import Any

import django_otp
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from careledger.accounts import admin_services, mfa, services, sessions, stepup
from careledger.accounts.forms import ChangePasswordForm, CodeForm, NewPasswordForm, TotpForm
from careledger.accounts.models import PasswordResetLink

RESET_SESSION_KEY = "_careledger_reset_digest"
LOW_BACKUP_CODES = 3


def safe_next(request: HttpRequest, default: str = "") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return default or reverse("web:home")


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _complete_mfa(request: HttpRequest, device: Any) -> None:
    django_otp.login(request, device)
    request.session.cycle_key()
    stepup.mark_fresh(request)


def _code_error(result: services.MfaResult) -> str:
    if result.throttled:
        return _("Too many wrong codes. Wait a minute, then try again.")
    return _("That code is not valid. Codes change every 30 seconds and work only once.")


# ---- MFA after the password ----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = safe_next(request)
    if not mfa.needs_mfa(user) or user.is_verified():  # type: ignore[union-attr]
        return HttpResponseRedirect(next_url)
    if mfa.confirmed_totp(user) is None:  # type: ignore[arg-type]
        return HttpResponseRedirect(_with_next(reverse("accounts:mfa_enrol"), next_url))
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result = services.do_verify_mfa(user=user, code=form.cleaned_data["code"])  # type: ignore[arg-type]
        if result.ok:
            _complete_mfa(request, result.device)
            left = result.backup_codes_left
            if left is not None and left <= LOW_BACKUP_CODES:
                messages.warning(
                    request,
                    _("You have %(n)s backup codes left. Make new ones on your account page.")
                    % {"n": left},
                )
            return HttpResponseRedirect(next_url)
        error = _code_error(result)
    elif request.method == "POST":
        error = _("Enter the code.")
    return render(
        request, "accounts/mfa_verify.html", {"form": form, "error": error, "next": next_url}
    )


@login_required
@require_http_methods(["GET", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = safe_next(request)
    if not mfa.needs_mfa(user):
        return HttpResponseRedirect(next_url)
    if mfa.confirmed_totp(user) is not None:  # type: ignore[arg-type]
        # Replacing an authenticator goes through an admin's MFA reset, never around it.
        return HttpResponseRedirect(_with_next(reverse("accounts:mfa_verify"), next_url))
    device = mfa.pending_totp(user)  # type: ignore[arg-type]
    form = TotpForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        codes = services.do_confirm_enrolment(
            user=user,  # type: ignore[arg-type]
            device=device,
            code=form.cleaned_data["code"],
        )
        if codes is not None:
            device.refresh_from_db()
            _complete_mfa(request, device)
            return render(
                request,
                "accounts/mfa_enrolled.html",
                {"codes": codes, "next": next_url},
            )
        error = _code_error(services.MfaResult(ok=False, method="totp"))
    elif request.method == "POST":
        error = _("Enter the code.")
    uri = device.config_url
    context = {
        "form": form,
        "error": error,
        "next": next_url,
        "qr": mfa.qr_svg(uri, label=_("QR code for your authenticator app")),
        "secret": mfa.secret_text(device),
    }
    return render(request, "accounts/mfa_enrol.html", context)


# ---- step-up -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def step_up(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request)
    form = TotpForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result = services.do_verify_mfa(
            user=request.user,  # type: ignore[arg-type]
            code=form.cleaned_data["code"],
            step_up=True,
        )
        if result.ok:
            stepup.mark_fresh(request)
            return HttpResponseRedirect(next_url)
        error = _code_error(result)
    elif request.method == "POST":
        error = _("Enter the code.")
    return render(
        request, "accounts/step_up.html", {"form": form, "error": error, "next": next_url}
    )


# ---- the account page ----------------------------------------------------------------------


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    device = mfa.confirmed_totp(user)  # type: ignore[arg-type]
    context = {
        "device": device,
        "backup_codes_left": mfa.backup_codes_left(user),  # type: ignore[arg-type]
        "step_up_fresh": stepup.mfa_is_fresh(request),
    }
    return render(request, "accounts/overview.html", context)


@login_required
@stepup.step_up_required
@require_http_methods(["GET", "POST"])
def backup_codes(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        codes = services.do_regenerate_backup_codes(user=request.user)  # type: ignore[arg-type]
        return render(request, "accounts/backup_codes.html", {"codes": codes})
    return render(
        request,
        "accounts/confirm.html",
        {
            "title": _("New backup codes"),
            "text": _(
                "Your current backup codes stop working and ten new ones are shown once. "
                "Keep them somewhere safe, apart from your phone."
            ),
            "button": _("Make new backup codes"),
            "icon": "key",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        epoch = services.do_change_password(
            user=request.user,  # type: ignore[arg-type]
            new_password=form.cleaned_data["new_password1"],
        )
        sessions.adopt_epoch(request, epoch)  # this session goes on, the others end
        update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
        messages.success(request, _("Password changed. Your other sessions have been signed out."))
        return HttpResponseRedirect(reverse("accounts:overview"))
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    services.do_logout_everywhere(user=request.user)  # type: ignore[arg-type]
    sessions.end(request)
    messages.success(request, _("You have been signed out everywhere, here included."))
    return HttpResponseRedirect(reverse("web:login"))


# ---- reset links (public: the user is not signed in) ---------------------------------------


def reset_start(request: HttpRequest, token: str) -> HttpResponse:
    """Move the token out of the URL into the session, then show the form at a plain URL."""
    digest = PasswordResetLink.hash(token)
    if admin_services.usable_reset_link(digest=digest) is None:
        admin_services.record_bad_reset_link()
        return render(request, "accounts/reset_invalid.html")
    request.session[RESET_SESSION_KEY] = digest
    return HttpResponseRedirect(reverse("accounts:reset_confirm"))


@require_http_methods(["GET", "POST"])
def reset_confirm(request: HttpRequest) -> HttpResponse:
    digest = request.session.get(RESET_SESSION_KEY, "")
    link = admin_services.usable_reset_link(digest=digest)
    if link is None:
        return render(request, "accounts/reset_invalid.html")
    form = NewPasswordForm(link.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = admin_services.do_use_reset_link(
            digest=digest, new_password=form.cleaned_data["new_password1"]
        )
        request.session.pop(RESET_SESSION_KEY, None)
        if user is None:
            return render(request, "accounts/reset_invalid.html")
        messages.success(
            request,
            _(
                "Your new password is set. Sign in with it; you will still be asked for "
                "the code from your authenticator app."
            ),
        )
        return HttpResponseRedirect(reverse("web:login"))
    return render(request, "accounts/reset_confirm.html", {"form": form, "for_user": link.user})
