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
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from careledger.access.enforce import require
from careledger.access.roles import Action
from careledger.clients import selectors as client_selectors
from careledger.clients.models import Client
from careledger.exams import forms, selectors, services, storage
from careledger.exams.labels import (
    MATCHABLE,
    ReasonView,
    Refusal,
    reason_choices,
    reason_view,
    too_large,
)
from careledger.exams.models import (
    ImportJob,
    JobStatus,
    QuarantinedItem,
)
from careledger.exams.parsers.types import Reason
from careledger.exams.pipeline import PURPOSE

HISTORY_PAGE = 25

# --- upload and history ----------------------------------------------------------------------


@csrf_exempt  # only so an oversized body can be refused unread; _imports checks CSRF itself
@login_required
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.EXAM_IMPORT, purpose=PURPOSE)
    if request.method == "POST" and forms.declared_too_large(request):
        # Refused from the declared length alone: the body (up to hundreds of MB) is never
        # read, neither into memory nor into a temporary file. Nothing changes, so answering
        # without the CSRF check gives nothing away.
        refusal = too_large(forms.declared_length(request))
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
                refusal = too_large(upload.size)  # still unread: it is on disk, not in memory
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
                        too_large(upload.size)
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
