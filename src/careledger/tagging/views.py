"""Client tag pages (under /clients/<id>/tags/): thin — one selector or service per request.

The page shows the client's tags as chips, the manual apply/remove forms for those who may
(care-team health manager or doctor) and the full history: when, why (rule version and the
facts that fired it, or who and their reason) and by whom or what.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.access.roles import permits
from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed
from careledger.tagging import permissions, presentation, selectors, services
from careledger.tagging.forms import ManualTagForm


def _client_or_404(client_id: uuid.UUID) -> None:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404


@login_required
@require_http_methods(["GET"])
def tags(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    _client_or_404(client_id)
    carried = selectors.client_tags(request.user, client_id)
    history = selectors.tag_history(request.user, client_id)
    can_apply = permits(request.user.role, permissions.APPLY) and not carried.emergency
    carried_ids = {c.tag_id for c in carried.chips if c.manual}
    choices = selectors.tag_choices(request.user) if can_apply else []
    return render(
        request,
        "tagging/client_tags.html",
        {
            "client_id": client_id,
            "t": carried,
            "history": [presentation.history_row(h) for h in history],
            "can_apply": can_apply,
            "apply_choices": [c for c in choices if c.id not in carried_ids],
            "remove_choices": [c for c in carried.chips if c.manual],
            "form": ManualTagForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def manual(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """Apply (op "apply") or remove (op "remove") a manual tag, with a reason. A GET asks the
    policy and goes back to the tags page (the forms live there)."""
    _client_or_404(client_id)
    services.check_can_apply(actor=request.user, client_id=client_id)
    if request.method == "GET":
        return redirect("tagging:tags", client_id=client_id)
    op = "remove" if request.POST.get("op") == "remove" else "apply"
    form = ManualTagForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a tag and say why."))
        return redirect("tagging:tags", client_id=client_id)
    do = services.do_apply_manual_tag if op == "apply" else services.do_remove_manual_tag
    try:
        do(
            actor=request.user,
            client_id=client_id,
            tag_id=form.cleaned_data["tag"],
            reason=form.cleaned_data["reason"],
        )
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    except ValidationFailed as exc:
        messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms))
    else:
        messages.success(request, _("Tag applied.") if op == "apply" else _("Tag removed."))
    return redirect("tagging:tags", client_id=client_id)
