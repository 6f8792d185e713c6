"""API schemas: separate input and output shapes per resource, so an encrypted field can only
leave through a schema made to show it (and then already masked by the selector)."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema
from pydantic import Field


class ClientCreate(Schema):
    name: str = Field(max_length=10_000)
    sex: str = Field(description="M or F")
    birth_date: dt.date
    document_type: str = "resident_id"
    document_number: str = Field(max_length=64)
    phone: str = Field(max_length=32)
    address: str = Field("", max_length=10_000)
    emergency_contact_name: str = Field("", max_length=10_000)
    emergency_contact_phone: str = Field("", max_length=32)
    emergency_contact_relation: str = ""
    membership_level: str = "standard"
    care_team_ids: list[uuid.UUID]


class ClientUpdate(ClientCreate):
    reason: str = Field("", max_length=500)


class ClientEnrolled(Schema):
    id: uuid.UUID
    card_number: str


class ClientRead(Schema):
    id: uuid.UUID
    card_number: str
    membership_level: str
    name: str
    sex: str
    age: int
    phone: str
    document_type: str
    document_number: str
    team_names: list[str]
    enrolled_at: dt.datetime
    masked: bool


class ClientDetailRead(ClientRead):
    birth_date: dt.date | None
    address: str
    emergency_contact_name: str
    emergency_contact_phone: str
    emergency_contact_relation: str
    status: str
    version: int
    updated_at: dt.datetime


class ClientPage(Schema):
    page: int
    pages: int
    total: int
    items: list[ClientRead]
