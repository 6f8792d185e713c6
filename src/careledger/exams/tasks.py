"""Celery entry points for report sync (idempotent: a duplicate delivery finds the job no longer
queued and does nothing)."""

from __future__ import annotations

import uuid

from celery import shared_task

from careledger.exams import services


@shared_task(name="careledger.exams.run_import")
def run_import_task(job_id: str) -> str:
    job = services.run_import(uuid.UUID(job_id))
    return job.status
