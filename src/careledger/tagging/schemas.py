"""API schemas: separate input and output shapes per resource (no model is exposed as is)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from ninja import Schema


class ChipRead(Schema):
    tag_id: uuid.UUID
    code: str
    name: str
    colour: str
    category: str
    sources: list[str]
    since: dt.datetime


class HistoryRead(Schema):
    at: dt.datetime
    tag_code: str
    op: str
    source: str
    why: str
    trigger: str
    rule_version: int | None
    rule_expression: str
    by: str
    reason: str
    facts: dict[str, Any]


class ClientTagsRead(Schema):
    client_id: uuid.UUID
    emergency: bool
    tags: list[ChipRead]


class ManualTagIn(Schema):
    tag_id: uuid.UUID
    reason: str
    op: Literal["apply", "remove"] = "apply"


class ManualTagOut(Schema):
    event_id: uuid.UUID
    op: str


class RuleRead(Schema):
    id: uuid.UUID
    version: int
    status: str
    expression: str
    facts: list[str]
    note: str
    published_at: dt.datetime | None


class TagRead(Schema):
    id: uuid.UUID
    code: str
    name_zh: str
    name_en: str
    colour: str
    category: str
    is_active: bool
    carried: int = 0
    rules: list[RuleRead] = []


class TagCreate(Schema):
    code: str
    name_zh: str
    name_en: str = ""
    colour: str = "blue"
    category: str = "other"
    expression: str = ""


class DraftIn(Schema):
    expression: str
    note: str = ""


class ExpressionIn(Schema):
    expression: str


class RuleErrorOut(Schema):
    code: str
    message: str
    line: int
    col: int
    start: int
    end: int


class ValidationOut(Schema):
    valid: bool
    facts: list[str] = []
    error: RuleErrorOut | None = None


class BandOut(Schema):
    sex: str
    band: str
    gain: str
    lose: str


class PreviewOut(Schema):
    clients: int
    would_carry: int
    carry_now: int
    gain: int
    lose: int
    bands: list[BandOut]
