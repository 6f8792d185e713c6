"""Advice-sheet pages of one client: thin — parse, call one selector or service, render.

* `/clients/<id>/advice/` — the sheet as it would be issued now (grouped by domain, why each
  item is there, its source), the issued sheets with dates, and for a health manager or doctor
  the issue form (an optional personal note, sealed). POST issues.
* `/clients/<id>/advice/issued/` — one issued sheet as it was given (`?sheet=<id>`; without
  it, the newest). Sheet ids travel in the query string so every route answers a plain GET for
  the care team (the route-enumeration test reaches each one with only the client id).
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.access.roles import Action, permits
from careledger.advice import selectors, services
from careledger.advice.models import AdviceSheet, Domain
from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed


def _client_or_404(client_id: uuid.UUID) -> None:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404


def _sheet_param(request: HttpRequest) -> uuid.UUID | None:
    raw = request.GET.get("sheet", "")
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise Http404 from exc


def _page(
    request: HttpRequest,
    client_id: uuid.UUID,
    *,
    note: str = "",
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    page = selectors.advice_sheet(request.user, client_id)
    return render(
        request,
        "advice/sheet.html",
        {
            "p": page,
            "client_id": client_id,
            "domains": dict(Domain.choices),
            "can_issue": permits(request.user.role, Action.ADVICE_ISSUE) and not page.emergency,
            "note": note,
            "errors": errors or [],
            "unavailable": [k for k, v in page.keys.sources.items() if v != "available"],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def sheet(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    _client_or_404(client_id)
    if request.method == "GET":
        return _page(request, client_id)
    note = request.POST.get("note", "")
    try:
        issued = services.do_issue_sheet(
            actor=request.user,
            client_id=client_id,
            note=note,
            fingerprint=request.POST.get("fingerprint", ""),
        )
    except ValidationFailed as exc:
        problems = [m for ms in exc.errors.values() for m in ms]
        return _page(request, client_id, note=note, errors=problems, status=422)
    messages.success(request, _("The advice sheet was issued."))
    return redirect(f"{reverse('advice:issued', args=[client_id])}?sheet={issued.id}")


@login_required
def issued(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    _client_or_404(client_id)
    sheet_id = _sheet_param(request)
    try:
        if sheet_id is None:
            found = selectors.latest_issued_sheet(request.user, client_id)
        else:
            found = selectors.issued_sheet(request.user, client_id, sheet_id)
    except AdviceSheet.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "advice/issued.html",
        {"s": found, "client_id": client_id, "domains": dict(Domain.choices)},
    )
