"""The client's own questionnaire pages in the portal (phone-first), and the signed-link page.

No route takes a client id: the portal pages act on the signed-in account's client
(`portal_login_required` → `check_portal_user`), a response id in the query string must be one
of theirs (else 404, ledgered). The link page (`q/<token>/`) is for someone not signed in: the
token is the credential (see `links.py`); a signed-in portal client who opens a link is sent to
their own portal pages, and an invalid link gives a clear page (403) and a ledgered refusal.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from careledger.clients.validation import ValidationFailed
from careledger.portal.views import portal_login_required
from careledger.questionnaires import links, permissions, rendering, selectors, services, stored
from careledger.questionnaires.models import QuestionnaireResponse
from careledger.questionnaires.views import errors_text, form_context, uuid_param

LINK_MESSAGES = {
    links.EXPIRED: gettext_lazy(
        "This link has expired. Please ask your health manager for a new one."
    ),
    links.USED: gettext_lazy("This questionnaire was already submitted with this link. Thank you."),
    links.WITHDRAWN: gettext_lazy(
        "This questionnaire is no longer in use. Your health manager will send you a new one if"
        " it is needed."
    ),
}
INVALID = gettext_lazy(
    "This link is not valid. Please open the link exactly as it was sent to you."
)


def _list() -> str:
    return reverse("portal:questionnaires:list")


def _fill(response_id: uuid.UUID) -> str:
    return f"{reverse('portal:questionnaires:fill')}?response={response_id}"


@require_http_methods(["GET", "POST"])
@portal_login_required
def my_list(request: HttpRequest, account: Any) -> HttpResponse:
    if request.method == "POST":
        questionnaire_id = uuid_param(request, "questionnaire", request.POST)
        if questionnaire_id is None:
            raise Http404
        try:
            started = services.portal_start(account=account, questionnaire_id=questionnaire_id)
        except ValidationFailed as exc:
            messages.error(request, errors_text(exc))
            return redirect(_list())
        return redirect(_fill(started.id))
    listing = selectors.portal_questionnaires(account)
    open_ids = {r.questionnaire.id for r in listing.responses if not r.completed}
    return render(
        request,
        "questionnaires/portal_list.html",
        {"listing": listing, "open_ids": open_ids},
    )


def _render_fill(request: HttpRequest, view: Any, action: str, status: int = 200, **extra: Any):
    context = {"view": view, "action": action, **extra}
    return render(request, "questionnaires/portal_fill.html", context, status=status)


@require_http_methods(["GET", "POST"])
@portal_login_required
def my_fill(request: HttpRequest, account: Any) -> HttpResponse:
    response_id = uuid_param(request, "response")
    if response_id is None:
        return redirect(_list())
    try:
        view = selectors.portal_response(account, response_id)
    except QuestionnaireResponse.DoesNotExist:
        selectors.refuse_portal(account, permissions.RESPONSE_VIEW, "not_your_response")
        return render(request, "portal/not_found.html", status=404)
    if view.completed:
        messages.success(request, _("Thank you: this questionnaire is submitted."))
        return redirect(_list())
    if request.method == "POST":
        raw = rendering.read_post(view.definition, request.POST.getlist)
        saved = services.portal_save(
            account=account,
            response_id=response_id,
            answers=raw,
            submit=request.POST.get("op") == "submit",
        )
        if saved.submitted:
            messages.success(request, _("Thank you: this questionnaire is submitted."))
            return redirect(_list())
        if saved.ok:
            messages.success(request, _("Progress saved. You can continue later."))
            return redirect(_fill(response_id))
        return _render_fill(
            request, view, _fill(response_id), 400, **form_context(view, raw, saved.problems)
        )
    return _render_fill(request, view, _fill(response_id), **form_context(view))


def _link_refused(request: HttpRequest, state: str) -> HttpResponse:
    message = str(LINK_MESSAGES.get(state, INVALID))
    if request.user.is_authenticated:  # a signed-in portal client: their own pages instead
        messages.error(request, message)
        return redirect(_list())
    return render(request, "questionnaires/link_refused.html", {"message": message}, status=403)


@require_http_methods(["GET", "POST"])
def by_link(request: HttpRequest, token: str) -> HttpResponse:
    user = request.user if request.user.is_authenticated else None
    if request.method == "POST":
        raw_answers: dict[str, Any] = {}
        opened = links.open_link(token, user=user)
        if not opened.ok:
            return _link_refused(request, opened.state)
        view = _link_view(opened)
        raw_answers = rendering.read_post(view.definition, request.POST.getlist)
        opened, saved = links.do_save_via_link(
            token=token,
            answers=raw_answers,
            submit=request.POST.get("op") == "submit",
            user=user,
        )
        if saved is None:
            return _link_refused(request, opened.state)
        if saved.submitted:
            return render(request, "questionnaires/link_done.html")
        if saved.ok:
            messages.success(request, _("Progress saved. You can continue later."))
            return redirect(request.path)
        return _render_fill(
            request,
            _link_view(opened),
            request.path,
            400,
            **form_context(view, raw_answers, saved.problems),
        )
    opened = links.open_link(token, user=user)
    if not opened.ok:
        return _link_refused(request, opened.state)
    if user is not None:  # signed in to the portal: fill it there, as themself
        messages.info(request, _("You are signed in: fill in your questionnaires here."))
        return redirect(_list())
    view = _link_view(opened)
    return _render_fill(request, view, request.path, **form_context(view))


def _link_view(opened: links.Opened) -> selectors.ResponseView:
    """The link's response with its saved answers (the link is the credential: no policy
    call; `open_link` ledgered the opening)."""
    assert opened.link is not None and opened.link.response_id is not None
    row = (
        QuestionnaireResponse.objects.select_related("questionnaire")
        .prefetch_related("scores")
        .get(pk=opened.link.response_id, client_id=opened.link.client_id)
    )
    view = selectors._view(row, with_answers=True)
    return selectors.ResponseView(**{**view.__dict__, "scores": []})


__all__ = ["by_link", "my_fill", "my_list", "stored"]
