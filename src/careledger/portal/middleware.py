"""The boundary between the portal and the staff workbench.

Portal users (role "client") reach `/portal/` and nothing else: not the workbench, not the
client registry, not the JSON API; staff do not use the portal. Both refusals are ledgered.
The views behind each side check again (the staff policy grants role "client" nothing; the
portal's views require a portal account), so this middleware is a second wall, not the only one:
it makes "a portal user never reaches a staff page" hold for every staff route, present and
future, without each one having to remember it.

Static files, the health check, the language switch and the ledger's public key stay open to
both. A portal user who
opens the site root is sent to the portal home instead of a refusal.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse

from careledger.access.enforce import actor_of
from careledger.accounts.models import Role
from careledger.ledger import services as ledger

PORTAL_PREFIX = "/portal/"
# The ledger's public key is public (clients check their receipts against it).
OPEN_TO_ALL = ("/static/", "/healthz", "/language/", "/api/ledger/public-key")


def _route(path: str) -> str:
    try:
        return resolve(path).view_name
    except Resolver404:
        return ""


class PortalBoundaryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        path = request.path
        if user is None or not user.is_authenticated or path.startswith(OPEN_TO_ALL):
            return self.get_response(request)
        in_portal = path.startswith(PORTAL_PREFIX)
        is_client = user.role == Role.CLIENT
        if is_client and not in_portal:
            if path == "/":
                return HttpResponseRedirect(reverse("portal:home"))
            return self._refuse(request, "portal_user_outside_portal", "portal/denied.html")
        if in_portal and not is_client:
            return self._refuse(request, "staff_in_portal", "403.html")
        return self.get_response(request)

    def _refuse(self, request: HttpRequest, reason: str, template: str) -> HttpResponse:
        # The route's name, not the path: a path can carry a search term in its query.
        with transaction.atomic():
            ledger.record(
                actor=actor_of(request.user),  # type: ignore[arg-type]
                action="portal.boundary",
                outcome=ledger.Outcome.DENIED,
                detail={"reason": reason, "route": _route(request.path)},
            )
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "forbidden"}, status=403)
        return render(request, template, {"reason": reason}, status=403)
