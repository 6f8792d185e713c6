"""Membership pages: a client's entitlements for their care team (/clients/<id>/membership/,
a use or a reversal by POST), the level table for the admin (/config/membership/), and the
client's own card in the portal (/portal/card/). Thin: one selector or service each."""

from __future__ import annotations

import uuid
from typing import Any

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
from careledger.membership import selectors, services
from careledger.membership.entitlements import NotEntitled
from careledger.membership.models import EntitlementKind
from careledger.portal.views import portal_login_required
from careledger.store.errors import MESSAGES


def refusal_message(code: str) -> str:
    return str(MESSAGES.get(code, code))


@login_required
@require_http_methods(["GET", "POST"])
def client_membership(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404
    if request.method == "POST":
        try:
            if request.POST.get("op") == "reverse":
                services.do_reverse(
                    actor=request.user,  # type: ignore[arg-type]
                    client_id=client_id,
                    use_id=uuid.UUID(request.POST.get("use", "")),
                )
                messages.success(request, _("The use was given back."))
            else:
                services.do_redeem(
                    actor=request.user,  # type: ignore[arg-type]
                    client_id=client_id,
                    kind=request.POST.get("kind", ""),
                    note=request.POST.get("note", ""),
                )
                messages.success(request, _("Entitlement used."))
        except NotEntitled as exc:
            messages.error(request, refusal_message(exc.code))
        except ValueError:
            messages.error(request, refusal_message("not_entitled"))
        return redirect(reverse("membership:client", args=[client_id]))
    view = selectors.client_membership(request.user, client_id)  # type: ignore[arg-type]
    client = client_selectors.get_client(request.user, client_id)  # type: ignore[arg-type]
    return render(
        request,
        "membership/client.html",
        {
            "c": client,
            "m": view,
            "problem": refusal_message(view.problem) if view.problem else "",
            "can_redeem": permits(request.user.role, Action.MEMBERSHIP_REDEEM),  # type: ignore[union-attr]
            "kinds": EntitlementKind.choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def config_levels(request: HttpRequest) -> HttpResponse:
    table = selectors.level_table(request.user)  # type: ignore[arg-type]
    errors: dict[str, str] = {}
    if request.method == "POST":
        data = {
            level: {kind: request.POST.get(f"q-{level}-{kind}", "0") for kind, _l in table.kinds}
            for level, _label in table.levels
        }
        try:
            changed = services.do_set_level_table(actor=request.user, data=data)  # type: ignore[arg-type]
            messages.success(
                request, _("Saved: %(n)d entitlement(s) changed.") % {"n": len(changed)}
            )
            return redirect(reverse("membership_config:levels"))
        except services.BadEntitlementInput as exc:
            errors = exc.errors
            messages.error(request, _("Quantities are whole numbers from 0 to 365."))
    rows = [
        (
            level,
            label,
            [(kind, table.quantities.get(level, {}).get(kind, 0), f"{level}.{kind}" in errors)
             for kind, _k in table.kinds],
        )
        for level, label in table.levels
    ]  # fmt: skip
    return render(request, "membership/config_levels.html", {"table": table, "rows": rows})


@require_GET
@portal_login_required
def my_card(request: HttpRequest, account: Any) -> HttpResponse:
    view = selectors.my_membership(account)
    return render(
        request,
        "membership/portal_card.html",
        {"m": view, "problem": refusal_message(view.problem) if view.problem else ""},
    )
