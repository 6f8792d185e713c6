"""Report sync on the JSON API (/api/imports/): the same services and selectors as the pages.

An oversized upload is refused from its declared length before its body is read: the route's
view is wrapped (`decorate_view`, which runs before authentication and parameter parsing) so
that such a body is never parsed — not into memory, not into a temporary file.
"""

from __future__ import annotations

import uuid
from functools import wraps
from typing import Any

from django.core.files.uploadhandler import FileUploadHandler
from django.http import Http404, HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict
from ninja import File, Form, Router, Status, UploadedFile
from ninja.decorators import decorate_view

from careledger.access.enforce import require
from careledger.access.roles import Action
from careledger.exams import forms, selectors, services, storage
from careledger.exams.models import ImportJob
from careledger.exams.parsers.types import Reason
from careledger.exams.pipeline import PURPOSE
from careledger.exams.schemas import ImportCreated, ImportJobRead, Problem, QuarantineItemRead

router = Router(tags=["imports"])
_OVERSIZED = "_careledger_oversized_upload"


class _LeaveBodyUnread(FileUploadHandler):
    """Answers the multipart parser with an empty form: the body is not read at all."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # type: ignore[no-untyped-def]
        return QueryDict(mutable=False), MultiValueDict()

    def receive_data_chunk(self, raw_data, start):  # type: ignore[no-untyped-def]
        return None

    def file_complete(self, file_size):  # type: ignore[no-untyped-def]
        return None


def _refuse_oversized_bodies(run):  # type: ignore[no-untyped-def]
    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        if request.method == "POST" and forms.declared_too_large(request):
            request.upload_handlers = [_LeaveBodyUnread(request)]
            setattr(request, _OVERSIZED, True)
        return run(request, *args, **kwargs)

    return wrapper


def _too_large(size: int) -> dict[str, str]:
    return {
        "detail": "refused",
        "reason": str(Reason.TOO_LARGE),
        "message": f"the file is {size / 1024 / 1024:.1f} MB; the limit is "
        f"{storage.max_bytes() // (1024 * 1024)} MB (CARELEDGER_IMPORT_MAX_MB)",
    }


@router.post("/", response={201: ImportCreated, 413: Problem, 422: Problem})
@decorate_view(_refuse_oversized_bodies)
def create_import(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    file: File[UploadedFile | None] = None,
    source: Form[str] = "",
    format: Form[str] = "",
):
    """Upload a report file (multipart: `file`; `source`, a source name; `format`: hl7v2, fhir,
    csv, xlsx or empty to detect). The job runs in the background: poll GET /api/imports/{id}."""
    require(request.user, Action.EXAM_IMPORT, purpose=PURPOSE)
    if getattr(request, _OVERSIZED, False):
        return Status(413, _too_large(forms.declared_length(request)))
    if file is None:
        return Status(422, _invalid("file: a file is required"))
    if forms.file_too_large(file.size or 0):
        return Status(413, _too_large(file.size or 0))
    if format not in ("", "hl7v2", "fhir", "csv", "xlsx"):
        return Status(422, _invalid(f"format: {format!r} is not hl7v2, fhir, csv, xlsx or empty"))
    try:
        job = services.do_create_import(
            actor=request.user,
            filename=file.name or "",
            data=file.read(),
            source_name=source[:100],
            fmt=format,
            channel="api",
        )
    except services.ImportRefused as exc:
        refused = {"detail": "refused", "reason": str(exc.reason), "message": exc.message}
        return Status(413 if exc.reason == Reason.TOO_LARGE else 422, refused)
    created = {"id": job.id, "status": job.status, "format": job.format, "source": job.source.name}
    return Status(201, created)


def _invalid(message: str) -> dict[str, str]:
    return {"detail": "invalid", "reason": "", "message": message}


def _job(request: HttpRequest, job_id: uuid.UUID) -> ImportJob:
    try:
        return selectors.job(request.user, job_id)
    except ImportJob.DoesNotExist as exc:
        raise Http404 from exc


@router.get("/{job_id}", response=ImportJobRead)
def read_import(request: HttpRequest, job_id: uuid.UUID):  # type: ignore[no-untyped-def]
    job = _job(request, job_id)
    return {
        "id": job.id,
        "status": job.status,
        "format": job.format,
        "source": job.source.name,
        "channel": job.channel,
        "size_bytes": job.size_bytes,
        "encoding": job.encoding,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "progress": {"units_done": job.units_done, "units_total": job.units_total},
        "summary": {
            "results_read": job.results_read,
            "imported": job.imported,
            "reports_created": job.reports_created,
            "duplicates": job.duplicates,
            "corrected": job.corrected,
            "quarantined": job.quarantined,
            "by_reason": {str(k): int(v) for k, v in (job.by_reason or {}).items()},
        },
        "error_reason": job.error_reason,
        "error_message": job.error_message,
        "previous_imports": services.previous_imports_of_same_file(job),
    }


@router.get("/{job_id}/quarantine", response=list[QuarantineItemRead])
def job_quarantine(  # type: ignore[no-untyped-def]
    request: HttpRequest, job_id: uuid.UUID, reason: str = "", page: int = 1
):
    """The job's open quarantine items visible to the asker (as on the quarantine page)."""
    rows = selectors.quarantine(request.user, job_id=job_id, reason=reason[:32], page=max(1, page))
    if (
        not rows
        and not ImportJob.objects.filter(
            pk=job_id, institution_id=request.user.institution_id
        ).exists()
    ):
        raise Http404
    return [r.__dict__ for r in rows]
