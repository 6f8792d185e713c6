"""Report sync as the UI, the API and `careledger import` all use it.

`do_create_import` checks and stores an uploaded file (sealed) and queues its job;
`run_import` parses it and lands its reports batch by batch (careledger.exams.pipeline),
updating the job's progress after each batch; parse problems and everything the pipeline could
not land go to the quarantine. `do_match_item`, `do_retry_items` and `do_discard_item` work the
quarantine.

Who may: running imports and configuring sources is institution-level work
(`Action.EXAM_IMPORT`: health managers and the institution admin; the job pages show counts,
never a person's results); matching a quarantined report to a client needs
`Action.EXAM_QUARANTINE` and the right to update that client's record (the care team), because
it files results under a person.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import Counter
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.exams import payload, storage
from careledger.exams.models import (
    ImportJob,
    ImportSource,
    JobStatus,
    QuarantinedItem,
    QuarantineScope,
    QuarantineStatus,
)
from careledger.exams.parsers import detect_format, parse
from careledger.exams.parsers.tabular import ColumnMapping
from careledger.exams.parsers.types import FileUnreadable, ParseOutcome, Reason
from careledger.exams.pipeline import PURPOSE, Tally, land_reports
from careledger.ledger import services as ledger

log = logging.getLogger(__name__)

DEFAULT_SOURCE = "default"


class ImportRefused(Exception):
    """The file is refused before a job exists (too large, empty, unknown format)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _source(actor: User, name: str) -> ImportSource:
    name = " ".join((name or DEFAULT_SOURCE).split())[:100]
    source, _created = ImportSource.objects.get_or_create(
        institution_id=actor.institution_id, name=name, defaults={"created_by": actor}
    )
    return source


def do_create_import(
    *,
    actor: User,
    filename: str,
    data: bytes,
    source_name: str = "",
    fmt: str = "",
    channel: str = "web",
    enqueue: bool = True,
) -> ImportJob:
    require(actor, Action.EXAM_IMPORT, purpose=PURPOSE)
    limit = storage.max_bytes()
    if len(data) > limit:
        raise ImportRefused(
            Reason.TOO_LARGE,
            f"the file is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{settings.CARELEDGER_IMPORT_MAX_MB} MB (CARELEDGER_IMPORT_MAX_MB)",
        )
    if not data.strip():
        raise ImportRefused(Reason.UNREADABLE, "the file is empty")
    source = _source(actor, source_name)
    fmt = fmt or source.format or (detect_format(filename, data[:8192]) or "")
    if not fmt:
        raise ImportRefused(
            Reason.UNREADABLE,
            "the file is neither HL7 v2, a FHIR Bundle, CSV nor XLSX (judged by its content)",
        )
    with transaction.atomic():
        job = ImportJob(
            institution_id=actor.institution_id,
            source=source,
            format=fmt,
            file_sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            channel=channel,
            created_by=actor,
        )
        job.filename = filename[:255]
        job.save()
        storage.save(actor.institution_id, job.id, data)
        ledger.record(
            actor=actor_of(actor),
            action="exam.import.upload",
            purpose=PURPOSE,
            resource_type="ImportJob",
            resource_id=str(job.id),
            detail={"format": fmt, "bytes": len(data), "source": source.name},
        )
        if enqueue:
            from careledger.exams.tasks import run_import_task

            job_id = str(job.id)
            transaction.on_commit(lambda: run_import_task.delay(job_id))
    return job


def previous_imports_of_same_file(job: ImportJob) -> int:
    return (
        ImportJob.objects.filter(institution_id=job.institution_id, file_sha256=job.file_sha256)
        .exclude(pk=job.pk)
        .count()
    )


def _parse_problems(job: ImportJob, outcome: ParseOutcome) -> list[QuarantinedItem]:
    by_index = {r.index: r for r in outcome.reports}
    items = []
    for problem in outcome.problems:
        if problem.warning:
            continue
        report = by_index.get(problem.report_index) if problem.report_index is not None else None
        items.append(
            QuarantinedItem(
                institution_id=job.institution_id,
                job=job,
                scope=QuarantineScope.RESULT if report else QuarantineScope.REPORT,
                location=problem.location[:100],
                field=problem.field[:64],
                reason=str(problem.reason),
                message=problem.message,
                payload="",
            )
        )
    return items


def _finish(job: ImportJob, status: str, **fields: object) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    job.status = status
    job.finished_at = timezone.now()
    job.save()


def run_import(job_id: uuid.UUID) -> ImportJob:
    """Run a queued job to its end. Idempotent: a job that is not queued is left alone (a
    duplicate task delivery does nothing)."""
    claimed = ImportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    job = ImportJob.objects.select_related("source", "created_by").get(pk=job_id)
    if not claimed:
        return job
    actor = job.created_by
    try:
        mapping = (
            ColumnMapping.from_dict(job.source.column_mapping)
            if job.format in {"csv", "xlsx"} and job.source.column_mapping
            else None
        )
        outcome = parse(storage.load(job.id), fmt=job.format, mapping=mapping, now=timezone.now())
    except FileUnreadable as exc:
        _finish(job, JobStatus.FAILED, error_reason=str(exc.reason), error_message=exc.message)
        _ledger_job(job, outcome=ledger.Outcome.FAILED)
        return job
    problems = _parse_problems(job, outcome)
    QuarantinedItem.objects.bulk_create(problems)
    reasons = Counter(p.reason for p in problems)
    ImportJob.objects.filter(pk=job.pk).update(
        warnings=dict(Counter(str(p.reason) for p in outcome.problems if p.warning)),
        units_total=len(outcome.reports),
        encoding=outcome.encoding[:16],
        quarantined=len(problems),
        by_reason=dict(reasons),
    )
    job.refresh_from_db()
    total = Tally(quarantined=len(problems), by_reason=reasons)
    size = max(1, settings.CARELEDGER_IMPORT_BATCH)
    try:
        for start in range(0, len(outcome.reports), size):
            chunk = outcome.reports[start : start + size]
            tally = land_reports(job=job, reports=chunk, actor=actor)
            total.add(tally)
            _progress(job, total, done=start + len(chunk))
    except Exception:
        log.exception("import job failed", extra={"job_id": str(job.id)})
        _finish(
            job,
            JobStatus.FAILED,
            error_reason="internal",
            error_message="the job stopped on an internal error; reports landed before it are "
            "kept and re-running the file is safe",
        )
        _ledger_job(job, outcome=ledger.Outcome.FAILED)
        return job
    _finish(job, JobStatus.DONE)
    _ledger_job(job, outcome=ledger.Outcome.ALLOWED)
    return job


def _progress(job: ImportJob, total: Tally, *, done: int) -> None:
    job.units_done = done
    job.results_read = total.results_read
    job.imported = total.imported
    job.reports_created = total.reports_created
    job.duplicates = total.duplicates
    job.corrected = total.corrected
    job.quarantined = total.quarantined
    job.by_reason = dict(total.by_reason)
    job.save(
        update_fields=[
            "units_done",
            "results_read",
            "imported",
            "reports_created",
            "duplicates",
            "corrected",
            "quarantined",
            "by_reason",
            "updated_at",
        ]
    )


def _ledger_job(job: ImportJob, *, outcome: str) -> None:
    with transaction.atomic():
        ledger.record(
            actor=actor_of(job.created_by),
            action="exam.import.run",
            outcome=outcome,
            purpose=PURPOSE,
            resource_type="ImportJob",
            resource_id=str(job.id),
            detail={
                "status": job.status,
                "reports": job.units_total,
                "imported": job.imported,
                "duplicates": job.duplicates,
                "quarantined": job.quarantined,
                "error": job.error_reason,
            },
        )


# --- the quarantine ------------------------------------------------------------------------


def _open_item(actor: User, item_id: uuid.UUID) -> QuarantinedItem:
    return (
        QuarantinedItem.objects.select_for_update()
        .select_related("job__source")
        .get(pk=item_id, institution_id=actor.institution_id, status=QuarantineStatus.OPEN)
    )


def _settle(actor: User, item: QuarantinedItem, tally: Tally, now) -> None:  # type: ignore[no-untyped-def]
    """After a retry: the item is resolved unless the same kind of problem came back, in which
    case it stays open with the new reason (and the new item is not kept twice)."""
    again = [new for _index, new in tally.items if new.scope == item.scope]
    if again:
        fresh = again[0]
        QuarantinedItem.objects.filter(pk=fresh.pk).delete()
        item.reason, item.message, item.field = fresh.reason, fresh.message, fresh.field
        item.attempts += 1
        item.save(update_fields=["reason", "message", "field", "attempts", "updated_at"])
        return
    item.status = QuarantineStatus.RESOLVED
    item.resolved_by = actor
    item.resolved_at = now
    item.save(update_fields=["status", "resolved_by", "resolved_at", "updated_at"])


def do_match_item(*, actor: User, item_id: uuid.UUID, client_id: uuid.UUID) -> Tally:
    """File a quarantined report under a client chosen by hand."""
    require(actor, Action.EXAM_QUARANTINE, purpose=PURPOSE)
    client = Client.objects.get(pk=client_id, institution_id=actor.institution_id)
    require(actor, Action.RECORD_UPDATE, client_scope(client), purpose=PURPOSE)
    with transaction.atomic():
        item = _open_item(actor, item_id)
        if not item.payload:
            raise ImportRefused(Reason.UNREADABLE, "this item holds nothing that can be filed")
        tally = land_reports(
            job=item.job, reports=[payload.load(item.payload)], actor=actor, forced_client=client.id
        )
        _settle(actor, item, tally, timezone.now())
        ledger.record(
            actor=actor_of(actor),
            action="exam.quarantine.match",
            purpose=PURPOSE,
            client_id=str(client.id),
            resource_type="QuarantinedItem",
            resource_id=str(item.id),
            detail={"imported": tally.imported, "quarantined": tally.quarantined},
        )
    return tally


def do_retry_items(*, actor: User, item_ids: Iterable[uuid.UUID]) -> Tally:
    """Run quarantined results again (e.g. after their code was mapped). Institution-level work
    like the import itself: it needs the import permission, not the client's care team, and
    answers with counts only (it lands what the original import would have landed). Items of
    another institution are not found; items with nothing to retry (parse problems) are
    skipped."""
    require(actor, Action.EXAM_IMPORT, purpose=PURPOSE)
    total = Tally()
    for item_id in item_ids:
        with transaction.atomic():
            item = _open_item(actor, item_id)
            if not item.payload or item.scope != QuarantineScope.RESULT or not item.client_id:
                continue
            tally = land_reports(
                job=item.job,
                reports=[payload.load(item.payload)],
                actor=actor,
                forced_client=item.client_id,
            )
            _settle(actor, item, tally, timezone.now())
            total.add(tally)
            ledger.record(
                actor=actor_of(actor),
                action="exam.quarantine.retry",
                purpose=PURPOSE,
                client_id=str(item.client_id),
                resource_type="QuarantinedItem",
                resource_id=str(item.id),
                detail={"imported": tally.imported, "reason": item.reason},
            )
    return total


def do_retry_code(*, actor: User, source_name: str, local_code: str) -> Tally:
    """Retry every open item of one source's unknown local code (after it was mapped)."""
    ids = QuarantinedItem.objects.filter(
        institution_id=actor.institution_id,
        status=QuarantineStatus.OPEN,
        job__source__name=source_name,
        local_code=local_code,
    ).values_list("id", flat=True)
    return do_retry_items(actor=actor, item_ids=list(ids))


def do_discard_item(*, actor: User, item_id: uuid.UUID, reason: str) -> None:
    """Close an item that will never land (e.g. a test patient), with a reason."""
    require(actor, Action.EXAM_QUARANTINE, purpose=PURPOSE)
    with transaction.atomic():
        item = _open_item(actor, item_id)
        if item.client_id is not None:
            client = Client.objects.get(pk=item.client_id)
            require(actor, Action.RECORD_UPDATE, client_scope(client), purpose=PURPOSE)
        item.status = QuarantineStatus.DISCARDED
        item.resolved_by = actor
        item.resolved_at = timezone.now()
        item.resolution_note = " ".join(reason.split())[:500]
        item.save(
            update_fields=["status", "resolved_by", "resolved_at", "resolution_note", "updated_at"]
        )
        ledger.record(
            actor=actor_of(actor),
            action="exam.quarantine.discard",
            purpose=PURPOSE,
            client_id=str(item.client_id or ""),
            resource_type="QuarantinedItem",
            resource_id=str(item.id),
            detail={"reason": item.reason},
        )
