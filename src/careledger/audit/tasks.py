"""Celery entry points of the oversight app (idempotent: see `scan.py`)."""

from __future__ import annotations

from celery import shared_task

from careledger.audit.scan import scan


@shared_task(name="careledger.audit.tasks.scan_anomalies")
def scan_anomalies(hours: int = 2) -> int:
    return scan(hours=hours)
