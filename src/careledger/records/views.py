"""Health-record pages: thin — parse the request, call one selector or service, render.

Routes (all under /clients/<client_id>/record/): the record itself; one form page per section
(`?entry=<id>` edits that entry and offers to retract it; lifestyle edits the current entry);
the change history (`?entry=<id>` for one entry). Entry ids travel in the query string so every
route answers a plain GET for the care team, and the route-enumeration test can reach each one.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.access.enforce import AccessDenied
from careledger.access.roles import Action, permits
from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed
from careledger.records import icd10, presentation, sections, selectors, services
from careledger.records.forms import FORMS, RetractForm, SectionForm
from careledger.records.sections import Section


def _client_or_404(client_id: uuid.UUID) -> None:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404


def _entry_param(request: HttpRequest) -> uuid.UUID | None:
    raw = request.GET.get("entry", "")
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise Http404 from exc


def _record_url(client_id: uuid.UUID, section: str = "") -> str:
    url = reverse("records:record", args=[client_id])
    return f"{url}#{section.replace('_', '-')}" if section else url


@login_required
def record(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    _client_or_404(client_id)
    try:
        health = selectors.health_record(request.user, client_id)
    except AccessDenied as exc:
        # Outside the care team a clinician is offered emergency access (refusal ledgered).
        if exc.decision.reason == "not_in_care_team" and permits(
            request.user.role, Action.BREAK_GLASS
        ):
            return render(
                request, "clients/break_glass_offer.html", {"client_id": client_id}, status=403
            )
        raise
    cards = [
        {
            "section": s,
            "shown": [presentation.show(s.key, e) for e in health.entries.get(s.key, [])],
            "retracted": health.retracted.get(s.key, 0),
        }
        for s in sections.ENTRY_SECTIONS
        if not s.singleton
    ]
    lifestyle = health.lifestyle
    return render(
        request,
        "records/record.html",
        {
            "r": health,
            "client_id": client_id,
            "cards": cards,
            "lifestyle": lifestyle,
            "lifestyle_facts": presentation.show("lifestyle", lifestyle).facts if lifestyle else [],
            "allergy_names": [e.values["substance"] for e in health.allergies],
            "vitals_section": sections.get(sections.VITALS),
            "can_edit": permits(request.user.role, Action.RECORD_UPDATE) and not health.emergency,
        },
    )


def _render_form(
    request: HttpRequest,
    spec: Section,
    client_id: uuid.UUID,
    form: SectionForm,
    entry: selectors.EntryView | None,
    retract: RetractForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "records/entry_form.html",
        {
            "section": spec,
            "client_id": client_id,
            "form": form,
            "entry": entry,
            "retract_form": retract or (RetractForm() if entry else None),
            "icd10_codes": icd10.all_codes() if form.uses_icd10 else [],
        },
        status=status,
    )


def _retract(
    request: HttpRequest, spec: Section, client_id: uuid.UUID, entry_id: uuid.UUID
) -> HttpResponse:
    retract = RetractForm(request.POST)
    retract.is_valid()
    try:
        services.do_retract_entry(
            actor=request.user,
            client_id=client_id,
            section=spec.key,
            entry_id=entry_id,
            reason=retract.cleaned_data.get("reason", ""),
        )
    except ValidationFailed as exc:
        if spec.model is None:  # retracted from the record page: say why there
            messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms))
            return redirect(_record_url(client_id, spec.key))
        for name, problems in exc.errors.items():
            for problem in problems:
                retract.add_error("reason" if name == "reason" else None, problem)
        entry = selectors.editable_entry(request.user, client_id, spec.key, entry_id)
        form = FORMS[spec.key](initial=entry.values if entry else None, editing=True)
        return _render_form(request, spec, client_id, form, entry, retract, status=422)
    messages.success(request, _("The entry is marked as entered in error."))
    return redirect(_record_url(client_id, spec.key))


@login_required
@require_http_methods(["GET", "POST"])
def entry_form(request: HttpRequest, client_id: uuid.UUID, section: str) -> HttpResponse:
    """Add an entry; with `?entry=<id>` edit or retract it (lifestyle: its current entry)."""
    _client_or_404(client_id)
    spec = sections.get(section)
    entry_id = _entry_param(request)
    try:
        if request.method == "POST" and request.POST.get("op") == "retract" and entry_id:
            return _retract(request, spec, client_id, entry_id)
        current = selectors.editable_entry(request.user, client_id, spec.key, entry_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    if entry_id and current is None and spec.model is not None:
        raise Http404
    form_class = FORMS[spec.key]
    if request.method == "GET":
        form = form_class(initial=current.values if current else None, editing=bool(current))
        return _render_form(request, spec, client_id, form, current)
    form = form_class(request.POST, editing=bool(current))
    if form.is_valid():
        try:
            if current:
                services.do_update_entry(
                    actor=request.user,
                    client_id=client_id,
                    section=spec.key,
                    entry_id=current.id,
                    data=form.to_data(),
                    reason=form.cleaned_data.get("reason", ""),
                )
            else:
                services.do_add_entry(
                    actor=request.user, client_id=client_id, section=spec.key, data=form.to_data()
                )
        except ValidationFailed as exc:
            form.add_service_errors(exc.errors)
        else:
            messages.success(request, _("Saved to the health record."))
            return redirect(_record_url(client_id, spec.key))
    return _render_form(request, spec, client_id, form, current, status=422)


@login_required
def history(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """Every version of the record's entries (or of one), newest first."""
    _client_or_404(client_id)
    entry_id = _entry_param(request)
    revisions = selectors.entry_history(request.user, client_id, entry_id=entry_id)
    rows = [
        {
            "r": r,
            "section": sections.BY_KEY.get(r.section),
            "changed": [presentation.label_of(r.section, f) for f in r.changed_fields],
            "facts": presentation.describe(r.section, r.values),
        }
        for r in revisions
        if r.section in sections.BY_KEY
    ]
    return render(
        request,
        "records/history.html",
        {"client_id": client_id, "rows": rows, "one_entry": entry_id is not None},
    )
