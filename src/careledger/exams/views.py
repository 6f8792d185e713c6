"""Report-sync pages (报告同步): upload and history, a job's live progress and summary, the
quarantine (隔离区) and the import sources (导入来源). Thin: parse the request, call one selector
or service, render. Who may do what is decided by the services and selectors; the pages only
hide what the policy would refuse.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from careledger.access.enforce import require
from careledger.access.roles import Action
from careledger.clients import selectors as client_selectors
from careledger.clients.models import Client
from careledger.exams import forms, selectors, services, source_services, storage
from careledger.exams.models import (
    ImportJob,
    ImportSource,
    JobStatus,
    QuarantinedItem,
    SourceFormat,
)
from careledger.exams.parsers.types import FileUnreadable, Reason
from careledger.exams.pipeline import PURPOSE

HISTORY_PAGE = 25

# Every reason a file, report or result can be refused or quarantined for: a short label and
# one line saying what it means and what to do. Codes come from the parsers and the pipeline
# (careledger.exams.parsers.types.Reason); "internal" from a job that stopped.
REASONS: dict[str, tuple[str, str]] = {
    Reason.UNREADABLE: (
        gettext_lazy("Unreadable file"),
        gettext_lazy("The file is not of the chosen format, or it is damaged."),
    ),
    Reason.ENCODING: (
        gettext_lazy("Unknown character encoding"),
        gettext_lazy("The text is neither UTF-8, UTF-16 nor GB18030 (GBK)."),
    ),
    Reason.TOO_LARGE: (
        gettext_lazy("File too large"),
        gettext_lazy("Split the export into smaller files, or ask for a higher limit."),
    ),
    Reason.TRUNCATED: (
        gettext_lazy("Truncated"),
        gettext_lazy("The file ends in the middle of this report: export it again."),
    ),
    Reason.NO_PATIENT_ID: (
        gettext_lazy("No identifier"),
        gettext_lazy("The report gives neither an ID number nor a card number."),
    ),
    Reason.BAD_PATIENT_ID: (
        gettext_lazy("Invalid ID number"),
        gettext_lazy("The resident ID number fails its check digit."),
    ),
    Reason.NO_DATE: (
        gettext_lazy("No exam date"),
        gettext_lazy("The report does not say when the exam took place."),
    ),
    Reason.BAD_DATE: (
        gettext_lazy("Unreadable date"),
        gettext_lazy("The exam date is not a date that can be read."),
    ),
    Reason.FUTURE_DATE: (
        gettext_lazy("Date in the future"),
        gettext_lazy("The exam date is later than today: check the centre's clock or export."),
    ),
    Reason.INVALID_RESOURCE: (
        gettext_lazy("Invalid FHIR resource"),
        gettext_lazy("The resource does not pass FHIR R4 validation."),
    ),
    Reason.UNSUPPORTED: (
        gettext_lazy("Not a result report"),
        gettext_lazy("This part of the file carries no results (e.g. an ADT message)."),
    ),
    Reason.MALFORMED: (
        gettext_lazy("Malformed line"),
        gettext_lazy("A line, segment or row that does not follow the format."),
    ),
    Reason.NO_CODE: (
        gettext_lazy("No item code"),
        gettext_lazy("The result names no item code or item name."),
    ),
    Reason.NO_VALUE: (
        gettext_lazy("No value"),
        gettext_lazy("The result has no value."),
    ),
    Reason.BAD_VALUE: (
        gettext_lazy("Unreadable value"),
        gettext_lazy(
            "Neither a number, a comparison such as <0.1, nor a known qualitative result."
        ),
    ),
    Reason.CANCELLED: (
        gettext_lazy("Cancelled result"),
        gettext_lazy("The centre marked this result cancelled, deleted or entered in error."),
    ),
    Reason.UNKNOWN_CODE: (
        gettext_lazy("Unknown item code"),
        gettext_lazy("No catalogue entry or code mapping: map the code, then retry."),
    ),
    Reason.UNIT_NOT_CONVERTIBLE: (
        gettext_lazy("Unit not convertible"),
        gettext_lazy("The unit cannot be converted to the indicator's standard unit."),
    ),
    Reason.IMPLAUSIBLE_VALUE: (
        gettext_lazy("Implausible value"),
        gettext_lazy("Outside what a living person can have: a typing or unit slip?"),
    ),
    Reason.UNMATCHED_CLIENT: (
        gettext_lazy("No matching client"),
        gettext_lazy("No client has this ID number or card number: match it by hand."),
    ),
    Reason.AMBIGUOUS_CLIENT: (
        gettext_lazy("Several matching clients"),
        gettext_lazy("The identifiers point to more than one client: match it by hand."),
    ),
    Reason.CONFLICT: (
        gettext_lazy("Conflicting value"),
        gettext_lazy(
            "Already imported with another value, and the new one is not marked as a correction."
        ),
    ),
    "internal": (
        gettext_lazy("Internal error"),
        gettext_lazy("The job stopped; what landed before is kept and importing again is safe."),
    ),
}
MATCHABLE = {Reason.UNMATCHED_CLIENT, Reason.AMBIGUOUS_CLIENT}


@dataclass(frozen=True)
class ReasonView:
    code: str
    label: str
    explanation: str
    count: int = 0


def reason_view(code: str, count: int = 0) -> ReasonView:
    label, explanation = REASONS.get(code, (code, ""))
    return ReasonView(code, str(label), str(explanation), count)


def reason_choices() -> list[tuple[str, str]]:
    return [(str(code), str(label)) for code, (label, _e) in REASONS.items() if code != "internal"]


# --- upload and history ----------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    reason: ReasonView
    detail: str


def _too_large(size: int) -> Refusal:
    return Refusal(
        reason_view(Reason.TOO_LARGE),
        _("The file is %(size)s MB; the limit is %(limit)s MB.")
        % {"size": f"{size / 1024 / 1024:.1f}", "limit": storage.max_bytes() // (1024 * 1024)},
    )


@csrf_exempt  # only so an oversized body can be refused unread; _imports checks CSRF itself
@login_required
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.EXAM_IMPORT, purpose=PURPOSE)
    if request.method == "POST" and forms.declared_too_large(request):
        # Refused from the declared length alone: the body (up to hundreds of MB) is never
        # read, neither into memory nor into a temporary file. Nothing changes, so answering
        # without the CSRF check gives nothing away.
        refusal = _too_large(forms.declared_length(request))
        return _imports_page(request, None, refusal, status=413)
    return _imports(request)


@csrf_protect
def _imports(request: HttpRequest) -> HttpResponse:
    sources = list(selectors.sources(request.user).filter(is_active=True))
    refusal = None
    form = forms.UploadForm(sources=sources)
    if request.method == "POST":
        form = forms.UploadForm(request.POST, request.FILES, sources=sources)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if forms.file_too_large(upload.size):
                refusal = _too_large(upload.size)  # still unread: it is on disk, not in memory
            else:
                try:
                    job = services.do_create_import(
                        actor=request.user,
                        filename=upload.name or "",
                        data=upload.read(),
                        source_name=form.cleaned_data["source_name"],
                        fmt=form.cleaned_data.get("format") or "",
                        channel="web",
                    )
                except services.ImportRefused as exc:
                    refusal = (
                        _too_large(upload.size)
                        if exc.reason == Reason.TOO_LARGE
                        else Refusal(reason_view(exc.reason), exc.message)
                    )
                else:
                    return redirect("exams:job", job_id=job.id)
    return _imports_page(request, form, refusal, status=400 if refusal else 200)


def _imports_page(
    request: HttpRequest,
    form: forms.UploadForm | None,
    refusal: Refusal | None,
    *,
    status: int = 200,
) -> HttpResponse:
    if form is None:
        sources = list(selectors.sources(request.user).filter(is_active=True))
        form = forms.UploadForm(sources=sources)
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    page = Paginator(selectors.jobs(request.user), HISTORY_PAGE).get_page(number)
    return render(
        request,
        "exams/imports.html",
        {
            "form": form,
            "refusal": refusal,
            "page": page,
            "max_mb": storage.max_bytes() // (1024 * 1024),
            "max_bytes": storage.max_bytes(),
        },
        status=status,
    )


# --- one job -------------------------------------------------------------------------------


def _job_or_404(request: HttpRequest, job_id: uuid.UUID) -> ImportJob:
    try:
        return selectors.job(request.user, job_id)
    except ImportJob.DoesNotExist as exc:
        raise Http404 from exc


def _job_context(request: HttpRequest, job: ImportJob) -> dict[str, object]:
    live = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    reasons = sorted(
        (reason_view(code, count) for code, count in (job.by_reason or {}).items() if count),
        key=lambda r: (-r.count, r.code),
    )
    return {
        "job": job,
        "live": live,
        "percent": int(100 * job.units_done / job.units_total) if job.units_total else 0,
        "reasons": reasons,
        "notes": [reason_view(code, count) for code, count in sorted((job.warnings or {}).items())],
        "error": reason_view(job.error_reason) if job.error_reason else None,
        "previous": 0 if live else services.previous_imports_of_same_file(job),
        # The file name can name a person: shown only to whoever uploaded it.
        "own_upload": job.created_by_id == request.user.id,
    }


@login_required
def job(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    found = _job_or_404(request, job_id)
    return render(request, "exams/job.html", _job_context(request, found))


@login_required
def job_progress(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """The fragment the job page polls (about once a second while the job is queued or
    running); once the job has ended it carries the summary and no longer polls."""
    found = _job_or_404(request, job_id)
    return render(request, "exams/_job_status.html", _job_context(request, found))


# --- the quarantine ------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    row: selectors.QuarantineRow
    reason: ReasonView
    can_match: bool


def _back(request: HttpRequest) -> str:
    """Where an action on the quarantine returns to: the list as it was filtered."""
    target = request.POST.get("back", "")
    home = reverse("exams:quarantine")
    if target.startswith(home) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return home


@login_required
def quarantine(request: HttpRequest) -> HttpResponse:
    form = forms.QuarantineFilterForm(request.GET or None, reasons=reason_choices())
    job_id = reason = None
    page = 1
    if form.is_bound and form.is_valid():
        job_id = form.cleaned_data["job"]
        reason = form.cleaned_data["reason"] or ""
        page = form.cleaned_data["page"] or 1
    rows = selectors.quarantine(request.user, job_id=job_id, reason=reason or "", page=page)
    items = [
        ItemView(r, reason_view(r.reason), r.reason in MATCHABLE and r.client_id is None)
        for r in rows
    ]
    # Matching without JavaScript: the search for a client comes back inline on this page.
    matching, query, candidates = request.GET.get("match", ""), "", None
    if matching and request.GET.get("q", "").strip():
        query = request.GET["q"][:100]
        candidates = client_selectors.search_clients(request.user, query)
    job = None
    if job_id:
        job = (
            ImportJob.objects.select_related("source")
            .filter(pk=job_id, institution_id=request.user.institution_id)
            .first()
        )
    base = {k: v for k, v in (("job", job_id or ""), ("reason", reason or "")) if v}
    return render(
        request,
        "exams/quarantine.html",
        {
            "form": form,
            "items": items,
            "job": job,
            "page": page,
            "has_next": len(rows) == selectors.PAGE,
            "prev_query": urlencode({**base, "page": page - 1}) if page > 1 else "",
            "next_query": urlencode({**base, "page": page + 1}),
            "matching": matching,
            "query": query,
            "candidates": candidates,
            "back": request.get_full_path(),
        },
    )


@login_required
def match_candidates(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    """Clients found by the client search, offered to file a quarantined report under (HTMX)."""
    require(request.user, Action.EXAM_QUARANTINE, purpose=PURPOSE)
    query = request.GET.get("q", "")[:100]
    rows = client_selectors.search_clients(request.user, query) if query.strip() else None
    return render(
        request,
        "exams/_candidates.html",
        {
            "item_id": item_id,
            "candidates": rows,
            "query": query,
            "back": request.GET.get("back", "") or reverse("exams:quarantine"),
        },
    )


@login_required
@require_POST
def match(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    form = forms.MatchForm(request.POST)
    if not form.is_valid():
        require(request.user, Action.EXAM_QUARANTINE, purpose=PURPOSE)
        messages.error(request, _("Choose the client to file the report under."))
        return redirect(_back(request))
    try:
        tally = services.do_match_item(
            actor=request.user, item_id=item_id, client_id=form.cleaned_data["client_id"]
        )
    except Client.DoesNotExist as exc:
        raise Http404 from exc
    except QuarantinedItem.DoesNotExist:
        messages.warning(request, _("This item was already handled, or is not yours to handle."))
    except services.ImportRefused as exc:
        messages.error(request, reason_view(exc.reason).label)
    else:
        messages.success(request, _landed_message(tally))
    return redirect(_back(request))


@login_required
@require_POST
def discard(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    form = forms.DiscardForm(request.POST)
    if not form.is_valid():
        require(request.user, Action.EXAM_QUARANTINE, purpose=PURPOSE)
        messages.error(request, _("Say why the item is discarded."))
        return redirect(_back(request))
    try:
        services.do_discard_item(
            actor=request.user, item_id=item_id, reason=form.cleaned_data["reason"]
        )
    except QuarantinedItem.DoesNotExist:
        messages.warning(request, _("This item was already handled, or is not yours to handle."))
    else:
        messages.success(request, _("Item discarded. The reason is recorded."))
    return redirect(_back(request))


@login_required
@require_POST
def retry(request: HttpRequest) -> HttpResponse:
    ids = forms.item_ids(request.POST.getlist("item"))
    if not ids:
        require(request.user, Action.EXAM_IMPORT, purpose=PURPOSE)
        messages.error(request, _("Choose the items to retry."))
        return redirect(_back(request))
    try:
        tally = services.do_retry_items(actor=request.user, item_ids=ids)
    except QuarantinedItem.DoesNotExist:
        messages.warning(request, _("This item was already handled, or is not yours to handle."))
    else:
        messages.success(request, _landed_message(tally))
    return redirect(_back(request))


def _landed_message(tally) -> str:  # type: ignore[no-untyped-def]
    return _("%(imported)s results landed; %(quarantined)s still in quarantine.") % {
        "imported": tally.imported,
        "quarantined": tally.quarantined,
    }


# --- import sources (configuration, /config/sources/) -----------------------------------------

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
            sample_form.add_error("sample", _too_large(sample.size).detail)
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
