"""Staff pages for a client's questionnaires (under /clients/<client_id>/questionnaires/).

Thin: parse the request, call one selector or service, render. Response ids travel in the query
string (`?response=<id>`), so every route answers a plain GET for the care team and the
route-enumeration test reaches each one with only the client id:

* `questionnaires/` the client's responses with their scores; `?response=` one response;
  POST starts (or resumes) a questionnaire and goes to its form;
* `questionnaires/fill/` `?response=` the form (save progress / submit); without it, the list
  of questionnaires that can be started;
* `questionnaires/link/` send the client a signed link to fill one in themself;
* `questionnaires/export/` the responses (or `?response=` one) as a FHIR R4 Bundle.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from careledger.access.enforce import AccessDenied
from careledger.access.roles import Action, permits
from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed
from careledger.questionnaires import (
    enable,
    links,
    permissions,
    rendering,
    selectors,
    services,
    stored,
)
from careledger.questionnaires.models import QuestionnaireResponse


def _client_or_404(client_id: uuid.UUID) -> None:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404


def uuid_param(request: HttpRequest, name: str, source: Any = None) -> uuid.UUID | None:
    raw = (source if source is not None else request.GET).get(name, "")
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise Http404 from exc


def _list_url(client_id: uuid.UUID, response_id: uuid.UUID | None = None) -> str:
    url = reverse("questionnaires:list", args=[client_id])
    return f"{url}?response={response_id}" if response_id else url


def _fill_url(client_id: uuid.UUID, response_id: uuid.UUID) -> str:
    return f"{reverse('questionnaires:fill', args=[client_id])}?response={response_id}"


def form_context(
    view: selectors.ResponseView,
    posted: dict[str, list[Any]] | None = None,
    problems: list[Any] | None = None,
) -> dict[str, Any]:
    """What `_form.html` needs: the rows, from the saved answers or what was just posted."""
    defn = view.definition
    assert defn is not None
    if posted is None:
        form_values = stored.as_form(defn, view.answers)
        typed = view.answers
    else:
        form_values = {}
        for link_id, given in posted.items():
            plain = [str(v) for v in given if not isinstance(v, dict)]
            others = [str(v["other"]) for v in given if isinstance(v, dict)]
            if others:
                plain.append(rendering.OTHER)
                form_values[f"{link_id}__other"] = others
            form_values[link_id] = plain
        typed = _typed(defn, posted)
    return {
        "rows": rendering.form_rows(
            defn,
            form_values,
            enabled=enable.enabled_items(defn, typed),
            problems=problems or [],
            translate=_,
        ),
        "definition": defn,
        "problems": [p.message(_) for p in problems or []],
    }


def _typed(defn: Any, posted: dict[str, list[Any]]) -> dict[str, list[Any]]:
    from careledger.questionnaires import answers as engine

    return engine.check(defn, posted, complete=False).answers


def errors_text(exc: ValidationFailed) -> str:
    return " ".join(m for field in exc.errors.values() for m in field)


def _may_fill(user: Any) -> bool:
    return permits(user.role, permissions.FILL)


@login_required
@require_http_methods(["GET", "POST"])
def client_list(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    _client_or_404(client_id)
    if request.method == "POST":
        questionnaire_id = uuid_param(request, "questionnaire", request.POST)
        if questionnaire_id is None:
            raise Http404
        try:
            started = services.do_start_response(
                actor=request.user, client_id=client_id, questionnaire_id=questionnaire_id
            )
        except ValidationFailed as exc:
            messages.error(request, errors_text(exc))
            return redirect(_list_url(client_id))
        return redirect(_fill_url(client_id, started.id))
    response_id = uuid_param(request, "response")
    try:
        listing = selectors.client_questionnaires(request.user, client_id)
        detail = (
            selectors.response_detail(request.user, client_id, response_id) if response_id else None
        )
    except AccessDenied as exc:
        if exc.decision.reason == "not_in_care_team" and permits(
            request.user.role, Action.BREAK_GLASS
        ):
            return render(
                request, "clients/break_glass_offer.html", {"client_id": client_id}, status=403
            )
        raise
    except QuestionnaireResponse.DoesNotExist as exc:
        raise Http404 from exc
    context = {
        "client_id": client_id,
        "listing": listing,
        "detail": detail,
        "answer_rows": rendering.answer_rows(detail.definition, detail.answers, _)
        if detail and detail.definition
        else [],
        "can_fill": _may_fill(request.user) and not listing.emergency,
    }
    return render(request, "questionnaires/client_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def fill(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    _client_or_404(client_id)
    response_id = uuid_param(request, "response")
    if response_id is None:
        client = services.check_can_fill(actor=request.user, client_id=client_id)
        available = selectors.published(client.institution_id)
        return render(
            request,
            "questionnaires/start.html",
            {"client_id": client_id, "available": available},
        )
    try:
        view = selectors.response_for_filling(request.user, client_id, response_id)
    except QuestionnaireResponse.DoesNotExist as exc:
        raise Http404 from exc
    if view.completed:
        return redirect(_list_url(client_id, response_id))
    status = 200
    context: dict[str, Any] = {"client_id": client_id, "view": view}
    if request.method == "POST":
        assert view.definition is not None
        raw = rendering.read_post(view.definition, request.POST.getlist)
        submit = request.POST.get("op") == "submit"
        try:
            saved = services.do_save_response(
                actor=request.user,
                client_id=client_id,
                response_id=response_id,
                answers=raw,
                submit=submit,
            )
        except ValidationFailed as exc:
            messages.error(request, errors_text(exc))
            return redirect(_list_url(client_id, response_id))
        if saved.submitted:
            messages.success(request, _("Submitted. The scores are below."))
            return redirect(_list_url(client_id, response_id))
        if saved.ok:
            messages.success(request, _("Progress saved. You can continue later."))
            return redirect(_fill_url(client_id, response_id))
        context.update(form_context(view, raw, saved.problems))
        status = 400
    else:
        context.update(form_context(view))
    return render(request, "questionnaires/fill.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def send_link(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    _client_or_404(client_id)
    client = services.check_can_fill(actor=request.user, client_id=client_id)
    if request.method == "POST":
        questionnaire_id = uuid_param(request, "questionnaire", request.POST)
        if questionnaire_id is None:
            raise Http404
        try:
            links.do_issue_link(
                actor=request.user,
                client_id=client_id,
                questionnaire_id=questionnaire_id,
                base_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except ValidationFailed as exc:
            messages.error(request, errors_text(exc))
            return redirect(reverse("questionnaires:link", args=[client_id]))
        messages.success(
            request, _("A link was sent to the client's mobile phone. It works for 7 days, once.")
        )
        return redirect(_list_url(client_id))
    available = selectors.published(client.institution_id)
    return render(
        request, "questionnaires/send_link.html", {"client_id": client_id, "available": available}
    )


@login_required
@require_GET
def export(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    _client_or_404(client_id)
    try:
        bundle = selectors.responses_fhir(request.user, client_id, uuid_param(request, "response"))
    except QuestionnaireResponse.DoesNotExist as exc:
        raise Http404 from exc
    body = json.dumps(bundle, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/fhir+json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="questionnaire-responses.json"'
    return response
