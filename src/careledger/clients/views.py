"""Client pages: thin — parse the request, call one selector or service, render."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.access.enforce import AccessDenied, require, team_ids
from careledger.access.roles import Action, permits
from careledger.accounts import stepup
from careledger.audit import services as audit_services
from careledger.audit.forms import BreakGlassForm
from careledger.clients import selectors, services
from careledger.clients.forms import ClientForm
from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed
from careledger.institutions.models import CareTeam
from careledger.tagging import selectors as tag_selectors


def _my_teams(request: HttpRequest, client_id: uuid.UUID | None = None):  # type: ignore[no-untyped-def]
    """The teams the form offers: the user's own, plus (when editing) the client's current ones,
    so that saving an edit never silently drops a team the editor is not in."""
    mine = Q(pk__in=team_ids(request.user))
    if client_id is not None:
        mine |= Q(client_links__client_id=client_id)
    return CareTeam.objects.filter(mine, is_active=True).distinct().order_by("name")


@login_required
def client_list(request: HttpRequest) -> HttpResponse:
    try:
        page_number = int(request.GET.get("page", "1"))
    except ValueError:
        page_number = 1
    tag_code = request.GET.get("tag", "")[:40]
    tag = None
    if tag_code:  # the list narrowed to one tag (自动设置标签)
        page, rows, tag = tag_selectors.filter_clients(
            request.user, tag_code=tag_code, page=page_number
        )
    else:
        page, rows = selectors.list_clients(request.user, page=page_number)
    return render(
        request,
        "clients/list.html",
        {
            "page": page,
            "rows": rows,
            "tag_filter": tag,
            "tag_code": tag_code,
            "tag_choices": tag_selectors.tag_choices(request.user),
            "chips": tag_selectors.chips_for_clients(request.user, [r.id for r in rows]),
        },
    )


@login_required
def client_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    rows = None
    understood = True
    if query.strip():
        understood = selectors.classify_query(query) is not None
        rows = selectors.search_clients(request.user, query)
    else:
        require(request.user, Action.CLIENT_SEARCH, purpose="care")
    return render(
        request,
        "clients/search.html",
        {"query": query, "rows": rows, "understood": understood},
    )


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.CLIENT_ENROL, purpose="enrolment")
    teams = _my_teams(request)
    if request.method == "POST":
        form = ClientForm(request.POST, teams=teams)
        if form.is_valid():
            try:
                enrolled = services.do_enrol_client(actor=request.user, data=form.to_input())
            except ValidationFailed as exc:
                form.add_service_errors(exc.errors)
            else:
                messages.success(
                    request,
                    _("Client enrolled. Card No. %(card)s") % {"card": enrolled.card_number},
                )
                return redirect("clients:profile", client_id=enrolled.client_id)
    else:
        initial = {"membership_level": "standard", "document_type": "resident_id"}
        if teams.count() == 1:
            initial["care_team_ids"] = list(teams)
        form = ClientForm(teams=teams, initial=initial)
    return render(request, "clients/enrol.html", {"form": form, "has_teams": teams.exists()})


def _get_or_404(client_id: uuid.UUID) -> None:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404


@login_required
def profile(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    _get_or_404(client_id)
    try:
        detail = selectors.get_client(request.user, client_id)
    except AccessDenied as exc:
        # Outside the care team, a clinical user is offered emergency access (the refusal is
        # already in the ledger); everyone else gets the plain refusal page.
        if exc.decision.reason == "archived_needs_reason":  # retention: state a reason first
            return redirect("retention:client", client_id=client_id)
        if exc.decision.reason == "not_in_care_team" and permits(
            request.user.role, Action.BREAK_GLASS
        ):
            return render(
                request, "clients/break_glass_offer.html", {"client_id": client_id}, status=403
            )
        raise
    tags = tag_selectors.client_tags(request.user, client_id)
    history = None
    if permits(request.user.role, Action.CLIENT_HISTORY):
        history = selectors.client_history(request.user, client_id)
    return render(
        request,
        "clients/profile.html",
        {
            "c": detail,
            "tags": tags,
            "history": history,
            "can_edit": permits(request.user.role, Action.CLIENT_UPDATE) and not detail.emergency,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def break_glass(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """Emergency access (紧急访问): reason and duration, after a fresh MFA code (step-up)."""
    _get_or_404(client_id)
    client = Client.objects.get(pk=client_id)
    if services.client_scope(client).team_ids & team_ids(request.user):
        return redirect("clients:profile", client_id=client_id)
    audit_services.check_break_glass(actor=request.user, client=client)
    if not stepup.mfa_is_fresh(request):
        return redirect(stepup.step_up_url(request.path))
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = audit_services.do_open_break_glass(
                actor=request.user,
                client_id=client_id,
                reason=form.cleaned_data["reason"],
                minutes=form.cleaned_data["minutes"],
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc.errors)
        else:
            messages.warning(
                request,
                _("Emergency access open until %(time)s. It is recorded and will be reviewed.")
                % {"time": timezone.localtime(grant.expires_at).strftime("%H:%M")},
            )
            return redirect("clients:profile", client_id=client_id)
    return render(request, "clients/break_glass.html", {"form": form, "client_id": client_id})


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    _get_or_404(client_id)
    client = Client.objects.get(pk=client_id)
    require(
        request.user, Action.CLIENT_UPDATE, services.client_scope(client), purpose="registry_update"
    )
    teams = _my_teams(request, client_id)
    if request.method == "POST":
        form = ClientForm(request.POST, teams=teams, editing=True)
        if form.is_valid():
            try:
                services.do_update_client(
                    actor=request.user,
                    client_id=client_id,
                    data=form.to_input(),
                    reason=form.cleaned_data.get("reason", ""),
                )
            except ValidationFailed as exc:
                form.add_service_errors(exc.errors)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("clients:profile", client_id=client_id)
    else:
        current = selectors.editable_values(request.user, client_id)
        form = ClientForm(teams=teams, editing=True, initial=current)
    return render(request, "clients/edit.html", {"form": form, "client_id": client_id})


@login_required
def revision(request: HttpRequest, client_id: uuid.UUID, version: int) -> HttpResponse:
    _get_or_404(client_id)
    try:
        data = selectors.revision_snapshot(request.user, client_id, version)
    except services.ClientRevision.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "clients/revision.html",
        {"data": data, "version": version, "client_id": client_id},
    )
