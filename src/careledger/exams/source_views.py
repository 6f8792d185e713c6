"""Import-source pages (导入来源, /config/sources/): list, create and edit a source with its
file format and, for CSV/XLSX, the saved column mapping (detectable from a sample file's
headers). Institution configuration: `Action.EXAM_SOURCE_MANAGE` (the institution admin)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.access.enforce import require
from careledger.access.roles import Action
from careledger.exams import forms, source_services
from careledger.exams.labels import too_large
from careledger.exams.models import ImportSource, SourceFormat
from careledger.exams.parsers.types import FileUnreadable

CONFIG = "configuration"


@login_required
def sources(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.EXAM_SOURCE_MANAGE, purpose=CONFIG)
    rows = (
        ImportSource.objects.filter(institution_id=request.user.institution_id)
        .annotate(job_count=Count("jobs"), last_import=Max("jobs__created_at"))
        .order_by("name")
    )
    return render(request, "exams/sources.html", {"sources": rows})


@login_required
@require_http_methods(["GET", "POST"])
def source_edit(request: HttpRequest, source_id: uuid.UUID | None = None) -> HttpResponse:
    require(request.user, Action.EXAM_SOURCE_MANAGE, purpose=CONFIG)
    source = None
    if source_id is not None:
        source = ImportSource.objects.filter(
            pk=source_id, institution_id=request.user.institution_id
        ).first()
        if source is None:
            raise Http404
    headers: list[str] | None = None
    sample_form = forms.SampleForm()
    if request.method == "POST" and request.POST.get("action") == "detect":
        form, sample_form, headers = _detect(request)
    elif request.method == "POST":
        form = forms.SourceForm(request.POST)
        if form.is_valid():
            tabular = form.cleaned_data["format"] not in (SourceFormat.HL7V2, SourceFormat.FHIR)
            mapping = form.mapping_dict() if tabular else None
            if mapping and not _anything_mapped(mapping):
                mapping = None
            try:
                saved = source_services.do_save_source(
                    actor=request.user,
                    source_id=source.id if source else None,
                    name=form.cleaned_data["name"],
                    fmt=form.cleaned_data["format"] or "",
                    column_mapping=mapping,
                    is_active=form.cleaned_data["is_active"],
                )
            except source_services.SourceInvalid as exc:
                form.add_service_errors(exc.errors)
            else:
                messages.success(request, _("Source “%(name)s” saved.") % {"name": saved.name})
                return redirect("config:sources")
    else:
        initial = forms.SourceForm.initial_for(source) if source else {"is_active": True}
        form = forms.SourceForm(initial=initial)
    return render(
        request,
        "exams/source_form.html",
        {
            "form": form,
            "sample_form": sample_form,
            "source": source,
            "headers": headers,
            "has_imports": bool(source and source.jobs.exists()),
        },
    )


def _anything_mapped(mapping: dict[str, object]) -> bool:
    columns = (name for name, _label in (*forms.MAPPING_COLUMNS, *forms.LONG_COLUMNS))
    return any(mapping.get(name) for name in columns) or bool(mapping.get("results"))


def _detect(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Fill the mapping from a sample file's header row (`sniff_mapping`); nothing is saved."""
    from careledger.exams.parsers import detect_format
    from careledger.exams.parsers.tabular import sniff_mapping

    data = request.POST.copy()
    sample_form = forms.SampleForm(request.POST, request.FILES)
    headers = None
    if sample_form.is_valid():
        sample = sample_form.cleaned_data["sample"]
        if forms.file_too_large(sample.size):
            sample_form.add_error("sample", too_large(sample.size).detail)
        else:
            content = sample.read()
            fmt = detect_format(sample.name or "", content[:8192]) or data.get("format") or ""
            if fmt not in (SourceFormat.CSV, SourceFormat.XLSX):
                sample_form.add_error("sample", _("The sample is not a CSV or XLSX export."))
            else:
                try:
                    headers = forms.sample_headers(
                        content,
                        fmt,
                        header_row=_int(data.get("header_row"), 1),
                        sheet=data.get("sheet", ""),
                        encoding=data.get("encoding", ""),
                    )
                except FileUnreadable as exc:
                    sample_form.add_error("sample", exc.message)
                else:
                    data["format"] = fmt
                    sniffed = sniff_mapping(headers)
                    if sniffed is None:
                        sample_form.add_error(
                            "sample",
                            _("No common headers recognised: map the columns by hand."),
                        )
                    else:
                        for key, value in forms.SourceForm.mapping_initial(
                            sniffed.to_dict()
                        ).items():
                            data[key] = "" if value is None else str(value)
    # Unbound: what was typed plus what was detected, without errors for fields not done yet.
    initial: dict[str, object] = {key: data.get(key, "") for key in forms.SourceForm().fields}
    initial["is_active"] = bool(data.get("is_active"))
    return forms.SourceForm(initial=initial), sample_form, headers


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default
