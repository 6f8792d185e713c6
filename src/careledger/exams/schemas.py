"""API shapes for report sync: separate input and output schemas. Jobs carry counts only; a
quarantined item carries what the file said about the person, already masked by the selector
for roles that see identifiers masked."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema


class ImportCreated(Schema):
    id: uuid.UUID
    status: str
    format: str
    source: str


class ImportProgress(Schema):
    units_done: int
    units_total: int


class ImportSummary(Schema):
    results_read: int
    imported: int
    reports_created: int
    duplicates: int
    corrected: int
    quarantined: int
    by_reason: dict[str, int]


class ImportJobRead(Schema):
    id: uuid.UUID
    status: str
    format: str
    source: str
    channel: str
    size_bytes: int
    encoding: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    progress: ImportProgress
    summary: ImportSummary
    error_reason: str
    error_message: str
    previous_imports: int


class QuarantineItemRead(Schema):
    id: uuid.UUID
    job_id: uuid.UUID
    created_at: dt.datetime
    scope: str
    location: str
    field: str
    reason: str
    message: str
    local_code: str
    local_name: str
    client_id: uuid.UUID | None
    patient_name: str
    patient_id_number: str
    patient_card_number: str
    exam_date: str
    value: str
    unit: str
    attempts: int
    can_retry: bool


class Problem(Schema):
    detail: str
    reason: str = ""
    message: str = ""
