"""API schemas, one per direction (input apart from output, so nothing is shown that a schema
was not made to show)."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema


class ItemOnSheet(Schema):
    code: str
    version: int
    domain: str
    title: str
    body: str
    citation: str
    needs_clinician: bool
    general: bool
    keys: list[str]
    reasons: list[str]


class IssuedSummaryRead(Schema):
    id: uuid.UUID
    issued_at: dt.datetime
    issued_by: str
    items: int
    needs_clinician: bool
    has_note: bool


class AdviceSheetRead(Schema):
    client_id: uuid.UUID
    emergency: bool
    fingerprint: str
    client_keys: list[str]
    sources: dict[str, str]
    items: list[ItemOnSheet]
    issued: list[IssuedSummaryRead]


class IssueCreate(Schema):
    note: str = ""
    fingerprint: str = ""


class Issued(Schema):
    id: uuid.UUID
    issued_at: dt.datetime
    items: int


class IssuedSheetRead(Schema):
    id: uuid.UUID
    issued_at: dt.datetime
    issued_by: str
    needs_clinician: bool
    client_keys: list[str]
    matched_keys: list[str]
    note: str
    items: list[ItemOnSheet]


class IssuedSheetEnvelope(Schema):
    sheet: IssuedSheetRead | None


class Citation(Schema):
    guideline: str
    edition: str = ""
    section: str


class ItemRead(Schema):
    code: str
    version: int
    status: str
    origin: str
    domain: str
    priority: int
    title: str
    body: str
    title_en: str
    body_en: str
    citations: list[Citation]
    applies: list[list[str]]
    replaces: list[str]
    needs_clinician: bool


class ItemVersionRead(ItemRead):
    created_at: dt.datetime
    change_note: str


class ItemDetailRead(Schema):
    current: ItemRead
    versions: list[ItemVersionRead]


class ItemWrite(Schema):
    domain: str
    priority: int = 50
    title: str
    body: str
    title_en: str = ""
    body_en: str = ""
    citations: list[Citation]
    applies: list[list[str]] = []
    replaces: list[str] = []
    needs_clinician: bool = False


class ItemCreate(ItemWrite):
    code: str


class ItemUpdate(ItemWrite):
    change_note: str = ""
