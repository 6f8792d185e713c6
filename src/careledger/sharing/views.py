"""Sharing pages: staff (a client's grants), portal (my grants, confirm by code), config
(partner institutions). Thin: parse, call one service or selector, render.

* `/clients/<id>/shares/` — the client's grants and every fetch under them; POST `op=create`
  (with the client's recorded consent) or `op=revoke`.
* `/portal/shares/` — the signed-in client's grants; POST `op=create` sends a code and goes to
  `/portal/shares/confirm/?grant=<id>`; POST `op=revoke` revokes at once.
* `/config/partners/` — the institution admin registers partners (the OAuth client secret is
  shown once, on the answer to the POST) and deactivates them.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.access.roles import Action, permits
from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed
from careledger.portal.views import portal_login_required
from careledger.sharing import selectors, services
from careledger.sharing.forms import CodeForm, GrantForm, PartnerForm, error_messages
from careledger.sharing.models import Partner, ShareGrant


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        return None


def _grant_input(form: GrantForm) -> services.GrantInput:
    data = form.cleaned_data
    return services.GrantInput(
        partner_id=data["partner"],
        categories=data["categories"],
        data_from=data.get("data_from"),
        data_to=data.get("data_to"),
        valid_days=data["valid_days"],
        max_uses=data["max_uses"],
    )


# --- staff --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def client_shares(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404
    errors: list[str] = []
    form = GrantForm(request.POST if request.POST.get("op") == "create" else None)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("op") == "revoke":
                grant_id = _uuid(request.POST.get("grant", ""))
                if grant_id is None:
                    raise Http404
                services.do_revoke_grant(actor=request.user, client_id=client_id, grant_id=grant_id)
                messages.success(request, _("The share was revoked. It stops working at once."))
                return HttpResponseRedirect(reverse("sharing:client_shares", args=[client_id]))
            if form.is_valid():
                services.do_create_grant(
                    actor=request.user, client_id=client_id, data=_grant_input(form)
                )
                messages.success(request, _("The share was created."))
                return HttpResponseRedirect(reverse("sharing:client_shares", args=[client_id]))
            status = 422
        except ValidationFailed as exc:
            errors = error_messages(exc.errors)
            status = 422
        except ShareGrant.DoesNotExist as exc:
            raise Http404 from exc
    shares = selectors.client_shares(request.user, client_id)
    return render(
        request,
        "sharing/client_shares.html",
        {
            "s": shares,
            "client_id": client_id,
            "form": form,
            "errors": errors,
            "can_manage": permits(request.user.role, Action.SHARE_MANAGE),
            "interactions": selectors.INTERACTION_LABELS,
        },
        status=status,
    )


# --- portal -----------------------------------------------------------------------------------


@portal_login_required
@require_http_methods(["GET", "POST"])
def my_shares(request: HttpRequest, account) -> HttpResponse:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    form = GrantForm(request.POST if request.POST.get("op") == "create" else None)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("op") == "revoke":
                grant_id = _uuid(request.POST.get("grant", ""))
                if grant_id is None:
                    raise Http404
                services.do_revoke_portal_grant(account=account, grant_id=grant_id)
                messages.success(request, _("The share was revoked. It stops working at once."))
                return HttpResponseRedirect(reverse("portal:shares:list"))
            if form.is_valid():
                grant = services.do_start_portal_grant(account=account, data=_grant_input(form))
                return HttpResponseRedirect(reverse("portal:shares:confirm") + f"?grant={grant.id}")
            status = 422
        except ValidationFailed as exc:
            errors = error_messages(exc.errors)
            status = 422
        except ShareGrant.DoesNotExist as exc:
            raise Http404 from exc
    shares = selectors.my_shares(account)
    return render(
        request,
        "sharing/portal_shares.html",
        {
            "s": shares,
            "form": form,
            "errors": errors,
            "interactions": selectors.INTERACTION_LABELS,
        },
        status=status,
    )


@portal_login_required
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, account) -> HttpResponse:  # type: ignore[no-untyped-def]
    grant_id = _uuid(request.GET.get("grant", ""))
    grant = selectors.pending_grant(account, grant_id) if grant_id else None
    if grant is None:
        return HttpResponseRedirect(reverse("portal:shares:list"))
    form = CodeForm(request.POST or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            services.do_confirm_portal_grant(
                account=account, grant_id=grant.id, code=form.cleaned_data["code"]
            )
        except ValidationFailed as exc:
            errors = error_messages(exc.errors)
        else:
            messages.success(request, _("Confirmed: the partner can now fetch what you chose."))
            return HttpResponseRedirect(reverse("portal:shares:list"))
    labels = [str(selectors.CATEGORY_LABELS.get(c, c)) for c in grant.categories]
    return render(
        request,
        "sharing/portal_confirm.html",
        {"grant": grant, "labels": labels, "form": form, "errors": errors},
        status=422 if errors else 200,
    )


# --- config -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def partners(request: HttpRequest) -> HttpResponse:
    services.check_can_manage_partners(actor=request.user)
    form = PartnerForm(request.POST if request.POST.get("op") == "create" else None)
    errors: list[str] = []
    registered = None
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("op") == "deactivate":
                partner_id = _uuid(request.POST.get("partner", ""))
                if partner_id is None:
                    raise Http404
                services.do_deactivate_partner(actor=request.user, partner_id=partner_id)
                messages.success(request, _("The partner was deactivated and its tokens revoked."))
                return HttpResponseRedirect(reverse("sharing_config:partners"))
            if form.is_valid():
                registered = services.do_register_partner(
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    code=form.cleaned_data["code"],
                    scopes=form.cleaned_data["scopes"],
                )
                form = PartnerForm()
            else:
                status = 422
        except ValidationFailed as exc:
            errors = error_messages(exc.errors)
            status = 422
        except Partner.DoesNotExist as exc:
            raise Http404 from exc
    return render(
        request,
        "sharing/partners.html",
        {
            "partners": services.partners_of(actor=request.user),
            "form": form,
            "errors": errors,
            "registered": registered,
            "token_url": request.build_absolute_uri(reverse("fhirapi:token")),
        },
        status=status,
    )
