"""Every request of a signed-in session passes here (after auth and django-otp's middleware).

1. Session rules (`session_rules.verdict`): epoch ("log out everywhere", password change,
   account disabled or reset), absolute age, idle time, unstamped. A session that fails ends
   at once (`auth.session_end` in the ledger) and the request continues as anonymous: pages
   then send the visitor to sign in, the API answers 401.
   A disabled account needs nothing here: Django's ModelBackend refuses to load an inactive
   user, so the very next request is already anonymous.
2. MFA for staff: until the session is OTP-verified, every role but "client" reaches only the
   MFA pages, the reset-link pages, logout, the language switch and the health check. Other
   pages redirect to MFA; every /api/ route answers 401 — except that an `Authorization`
   header makes the request anonymous and lets the API's bearer-token auth decide, so tokens
   from `careledger tokens create` keep working whatever cookie comes along.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext_lazy as _

from careledger.accounts import mfa, services, session_rules, sessions

# Views an authenticated but not yet OTP-verified staff session may reach.
MFA_OPEN_VIEWS = frozenset(
    {
        "accounts:mfa_verify",
        "accounts:mfa_enrol",
        "accounts:reset_start",
        "accounts:reset_confirm",
        "web:logout",
        "web:login",
        "web:set_language",
        "web:healthz",
    }
)


ENDED = {
    "idle": _("You were signed out after a period of inactivity."),
    "absolute": _(
        "You were signed out: the session reached its maximum length. Please sign in again."
    ),
    "epoch": _("You were signed out because your account's sessions were ended."),
    "unstamped": _("Please sign in again."),
}


def _view_name(request: HttpRequest) -> str:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return ""


class SessionSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = time.time()
            reason = session_rules.verdict(
                request.session, user_epoch=user.session_epoch, now=now, limits=sessions.limits()
            )
            if reason is not None:
                services.record_session_end(user=user, reason=reason)
                sessions.end(request)
                if not request.path_info.startswith("/api/"):
                    messages.warning(request, ENDED[reason])
            else:
                session_rules.touch(request.session, now=now)
                refusal = self._mfa_gate(request)
                if refusal is not None:
                    return refusal
        return self.get_response(request)

    def _mfa_gate(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        if not mfa.needs_mfa(user) or user.is_verified():  # type: ignore[union-attr]
            return None
        if request.path_info.startswith("/api/"):
            if request.headers.get("Authorization"):
                request.user = AnonymousUser()  # the bearer token, not this session, decides
                return None
            return JsonResponse({"detail": "mfa required"}, status=401)
        if _view_name(request) in MFA_OPEN_VIEWS:
            return None
        target = reverse("accounts:mfa_verify")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
