"""Retention pages: the care team's /clients/<id>/retention/ (state a reason to read an archived
client; request an erasure) and the institution's /config/retention/ (policy, legal holds, the
erasure queue a second person decides). Thin: parse, call one service, redirect."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from careledger.access.roles import Action, permits
from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed
from careledger.retention import labels, selectors, services
from careledger.retention.models import ErasureGround, PolicyAction


def _flash(request: HttpRequest, exc: ValidationFailed) -> None:
    for field, codes in exc.errors.items():
        for code in codes:
            messages.error(request, labels.error(field, code))


@login_required
@require_http_methods(["GET", "POST"])
def client_page(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404
    if request.method == "POST":
        try:
            if request.POST.get("action") == "erase":
                services.do_request_erasure(
                    actor=request.user,  # type: ignore[arg-type]
                    client_id=client_id,
                    ground=request.POST.get("ground", ""),
                    note=request.POST.get("note", ""),
                )
                messages.success(request, _("Erasure requested. A second person must approve it."))
            else:
                minutes = int(request.POST.get("minutes") or 60)
                services.do_grant_archive_access(
                    actor=request.user,  # type: ignore[arg-type]
                    client_id=client_id,
                    reason=request.POST.get("reason", ""),
                    minutes=minutes,
                )
                messages.success(
                    request, _("Reason recorded. You may read this archived client for now.")
                )
                return redirect(reverse("clients:profile", args=[client_id]))
        except ValueError:
            messages.error(request, _("Choose how long you need access."))
        except ValidationFailed as exc:
            _flash(request, exc)
        return redirect(reverse("retention:client", args=[client_id]))
    state = selectors.client_retention(request.user, client_id)  # type: ignore[arg-type]
    return render(
        request,
        "retention/client.html",
        {
            "state": state,
            "grounds": ErasureGround.choices,
            "minutes": services.ARCHIVE_ACCESS_MINUTES,
            "can_request": permits(request.user.role, Action.ERASURE_REQUEST),  # type: ignore[union-attr]
            "status_label": labels.status_labels().get(state.status, state.status),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def config_home(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            services.do_set_policy(
                actor=request.user,  # type: ignore[arg-type]
                inactive_days=int(request.POST.get("inactive_days") or 0),
                action=request.POST.get("action", ""),
            )
            messages.success(request, _("Retention policy saved."))
        except ValueError:
            messages.error(request, labels.error("inactive_days", "too_short"))
        except ValidationFailed as exc:
            _flash(request, exc)
        return redirect(reverse("retention_config:home"))
    data = selectors.overview(request.user)  # type: ignore[arg-type]
    return render(
        request,
        "retention/config.html",
        {"o": data, "actions": PolicyAction.choices, "grounds": dict(ErasureGround.choices)},
    )


@login_required
@require_POST
def place_hold(request: HttpRequest) -> HttpResponse:
    try:
        client_id = uuid.UUID(request.POST.get("client", "").strip())
        services.do_place_hold(
            actor=request.user, client_id=client_id, reason=request.POST.get("reason", "")
        )  # type: ignore[arg-type]
        messages.success(
            request, _("Legal hold placed: nothing will be archived, anonymised or erased.")
        )
    except (ValueError, Client.DoesNotExist):
        messages.error(request, _("No client with that id."))
    except ValidationFailed as exc:
        _flash(request, exc)
    return redirect(reverse("retention_config:home"))


@login_required
@require_POST
def release_hold(request: HttpRequest, hold_id: uuid.UUID) -> HttpResponse:
    try:
        services.do_release_hold(actor=request.user, hold_id=hold_id)  # type: ignore[arg-type]
        messages.success(request, _("Legal hold released."))
    except ValidationFailed as exc:
        _flash(request, exc)
    return redirect(reverse("retention_config:home"))


@login_required
@require_POST
def decide(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    try:
        services.do_decide_erasure(
            actor=request.user,  # type: ignore[arg-type]
            request_id=request_id,
            approve=approve,
            note=request.POST.get("note", ""),
        )
        messages.success(
            request,
            _("Erased: the client's data key is destroyed.") if approve else _("Erasure rejected."),
        )
    except ValidationFailed as exc:
        _flash(request, exc)
    return redirect(reverse("retention_config:home"))
