"""Staff-account pages: the institution's staff accounts, locked accounts and the actions on
them (unlock, reset link, MFA reset, disable/enable).

Institution admins and auditors (the policy's `user.view`) see the two lists; only institution
admins act (others get 403, ledgered), and every action is checked again per target by
`admin_services.check_may_manage`. Targets are passed as a form or query
field (`user`), never in the path. Issuing a reset link and resetting MFA need a fresh MFA
(step-up); they show a confirmation page on GET and act on POST.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from careledger.access.enforce import actor_of
from careledger.accounts import admin_services, lockout
from careledger.accounts.models import User
from careledger.accounts.permissions import may_open_admin_pages, may_view_staff_accounts
from careledger.accounts.stepup import step_up_required
from careledger.accounts.views import safe_next
from careledger.ledger import services as ledger


def _gate(allowed: Callable[..., bool], page: str) -> Callable[..., Any]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not allowed(
                actor_role=user.role,  # type: ignore[union-attr]
                actor_institution=user.institution_id,  # type: ignore[union-attr]
            ):
                with transaction.atomic():
                    ledger.record(
                        actor=actor_of(user),  # type: ignore[arg-type]
                        action=page,
                        outcome=ledger.Outcome.DENIED,
                        detail={"reason": "role"},
                    )
                raise admin_services.AccountDenied("role")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# Admins and auditors see the pages; only admins act (each target is checked again).
viewers_only = _gate(may_view_staff_accounts, "account.view")
admin_only = _gate(may_open_admin_pages, "account.admin_pages")


def _target(request: HttpRequest) -> User:
    raw = request.POST.get("user") or request.GET.get("user") or ""
    try:
        pk = uuid.UUID(raw)
    except ValueError as exc:
        raise Http404 from exc
    target = User.objects.filter(pk=pk).first()
    if target is None:
        raise Http404
    return target


def _rows(actor: User) -> list[dict[str, Any]]:
    users = admin_services.managed_users(actor)
    locked = lockout.locked_usernames([u.username for u in users])
    enrolled = set(
        TOTPDevice.objects.filter(user__in=users, confirmed=True).values_list("user_id", flat=True)
    )
    return [
        {
            "user": u,
            "locked_until": locked.get(u.username),
            "mfa": u.pk in enrolled,
            "is_self": u.pk == actor.pk,
        }
        for u in users
    ]


def _can_manage(request: HttpRequest) -> bool:
    user = request.user
    return may_open_admin_pages(
        actor_role=user.role,  # type: ignore[union-attr]
        actor_institution=user.institution_id,  # type: ignore[union-attr]
    )


@login_required
@viewers_only
def users(request: HttpRequest) -> HttpResponse:
    rows = _rows(request.user)  # type: ignore[arg-type]
    context = {"rows": rows, "can_manage": _can_manage(request)}
    return render(request, "accounts/admin_users.html", context)


@login_required
@viewers_only
def locked(request: HttpRequest) -> HttpResponse:
    rows = [r for r in _rows(request.user) if r["locked_until"]]  # type: ignore[arg-type]
    context = {
        "can_manage": _can_manage(request),
        "rows": rows,
        "limit": lockout.failure_limit(),
        "minutes": lockout.cool_off_minutes(),
    }
    return render(request, "accounts/admin_locked.html", context)


@login_required
@admin_only
@require_POST
def unlock(request: HttpRequest) -> HttpResponse:
    target = _target(request)
    admin_services.do_unlock(actor=request.user, target=target)  # type: ignore[arg-type]
    messages.success(request, _("%(name)s can sign in again.") % {"name": target.shown_name})
    return HttpResponseRedirect(safe_next(request, reverse("accounts:admin_locked")))


@login_required
@admin_only
@require_POST
def set_active(request: HttpRequest) -> HttpResponse:
    target = _target(request)
    active = request.POST.get("active") == "1"
    admin_services.do_set_active(actor=request.user, target=target, active=active)  # type: ignore[arg-type]
    if active:
        messages.success(request, _("%(name)s is enabled.") % {"name": target.shown_name})
    else:
        messages.success(
            request,
            _("%(name)s is disabled and signed out everywhere.") % {"name": target.shown_name},
        )
    return HttpResponseRedirect(reverse("accounts:admin_users"))


@login_required
@admin_only
@step_up_required
@require_http_methods(["GET", "POST"])
def reset_link(request: HttpRequest) -> HttpResponse:
    target = _target(request)
    if request.method == "POST":
        token = admin_services.do_issue_reset_link(actor=request.user, target=target)  # type: ignore[arg-type]
        url = request.build_absolute_uri(reverse("accounts:reset_start", args=[token]))
        return render(
            request, "accounts/admin_reset_link.html", {"target": target, "reset_url": url}
        )
    admin_services.check_may_manage(
        actor=request.user,  # type: ignore[arg-type]
        target=target,
        action="password_reset_issue",
    )
    return render(
        request,
        "accounts/confirm.html",
        {
            "title": _("Password reset link"),
            "text": _(
                "A one-time link lets %(name)s choose a new password. Earlier links stop "
                "working. Their authenticator stays: they still need it to sign in."
            )
            % {"name": target.shown_name},
            "button": _("Issue the link"),
            "icon": "link-45deg",
            "target": target,
            "back": reverse("accounts:admin_users"),
        },
    )


@login_required
@admin_only
@step_up_required
@require_http_methods(["GET", "POST"])
def mfa_reset(request: HttpRequest) -> HttpResponse:
    target = _target(request)
    if request.method == "POST":
        admin_services.do_reset_mfa(actor=request.user, target=target)  # type: ignore[arg-type]
        messages.success(
            request,
            _("%(name)s's authenticator was removed; they set up a new one at their next sign-in.")
            % {"name": target.shown_name},
        )
        return HttpResponseRedirect(reverse("accounts:admin_users"))
    admin_services.check_may_manage(
        actor=request.user,  # type: ignore[arg-type]
        target=target,
        action="mfa_reset",
    )
    return render(
        request,
        "accounts/confirm.html",
        {
            "title": _("Reset two-step verification"),
            "text": _(
                "The authenticator and backup codes of %(name)s are removed and all their "
                "sessions end. At their next sign-in they set up a new authenticator."
            )
            % {"name": target.shown_name},
            "button": _("Reset two-step verification"),
            "icon": "shield-exclamation",
            "danger": True,
            "target": target,
            "back": reverse("accounts:admin_users"),
        },
    )
