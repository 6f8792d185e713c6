"""Celery entry points for exports (idempotent: a duplicate delivery finds the request no longer
approved, or its approval used, and does nothing)."""

from __future__ import annotations

import uuid

from celery import shared_task

from careledger.exports import services


@shared_task(name="careledger.exports.run_export")
def run_export_task(export_id: str) -> str:
    return services.run_export(uuid.UUID(export_id)).status


@shared_task(name="careledger.exports.purge_expired")
def purge_expired_task() -> int:
    return services.purge_expired()
