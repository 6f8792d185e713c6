"""Every read of the health record: authorised, ledgered, in a bounded number of queries.

`health_record` builds the whole record page (every section, the latest vital-sign sets) with one
query per section whatever the number of entries, one key lookup for all sealed text and one
ledger event (`record.view`; purpose "emergency" under a break-glass grant). Views and the API
get `EntryView` values — plain dictionaries of what each entry says, with ICD-10 names resolved —
never model rows.

Nurses read the record in full (allergies, medications and notes are what a follow-up call is
about); only the client's identifiers in the header are masked for them, as everywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone, translation

from careledger.access import masking
from careledger.access.enforce import actor_of, require
from careledger.access.policy import Decision
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.selectors import age_on
from careledger.clients.services import client_scope
from careledger.crypto import keyring
from careledger.ledger import services as ledger
from careledger.records import icd10, sections, vitals
from careledger.records.models import EntryRevision, EntryStatus, RecordEntry
from careledger.records.sections import Section
from careledger.records.services import PURPOSE, check_can_update

HISTORY_ACTION = "record.history"
_SEALED = sorted({name for s in sections.ENTRY_SECTIONS for name in s.sealed_fields})


@dataclass(frozen=True)
class EntryView:
    """One entry as the page and the API show it."""

    id: uuid.UUID
    section: str
    version: int
    status: str
    values: dict[str, Any]  # the section's fields (typed, as stored) and `code_name`
    recorded_at: dt.datetime
    updated_at: dt.datetime
    updated_by: str


@dataclass(frozen=True)
class ClientHeader:
    id: uuid.UUID
    name: str
    sex: str
    age: int
    masked: bool


@dataclass(frozen=True)
class HealthRecord:
    client: ClientHeader
    entries: dict[str, list[EntryView]]  # current entries per section key
    retracted: dict[str, int]  # entries entered in error, per section key
    vital_sets: list[vitals.VitalSet]
    emergency: bool

    @property
    def lifestyle(self) -> EntryView | None:
        current = self.entries.get("lifestyle") or []
        return current[0] if current else None

    @property
    def allergies(self) -> list[EntryView]:
        return self.entries.get("allergies", [])


@dataclass(frozen=True)
class RevisionView:
    section: str
    entry_id: uuid.UUID
    version: int
    status: str
    changed_fields: tuple[str, ...]
    changed_by: str
    changed_at: dt.datetime
    reason: str
    values: dict[str, str] = field(default_factory=dict)

    @property
    def code_name(self) -> str:
        code = self.values.get("code", "")
        return _code_name(code) if code else ""


def _code_name(code: str) -> str:
    entry = icd10.find(code)
    return entry.name(translation.get_language() or "zh-hans") if entry else code


def _view(section: Section, row: RecordEntry) -> EntryView:
    values: dict[str, Any] = {name: getattr(row, name) for name in section.fields}
    if "code" in values:
        values["code_name"] = _code_name(values["code"])
    return EntryView(
        id=row.id,
        section=section.key,
        version=row.version,
        status=row.status,
        values=values,
        recorded_at=row.created_at,
        updated_at=row.updated_at,
        updated_by=row.updated_by.shown_name if row.updated_by else "",
    )


def _header(client: Client, decision: Decision) -> ClientHeader:
    masked = decision.mask_identifiers
    return ClientHeader(
        id=client.id,
        name=masking.mask_name(client.name) if masked else client.name,
        sex=client.sex,
        age=age_on(client.birth_date, timezone.localdate()),
        masked=masked,
    )


def _read_entries(client: Client) -> tuple[dict[str, list[EntryView]], dict[str, int]]:
    rows: dict[Section, list[RecordEntry]] = {}
    for section in sections.ENTRY_SECTIONS:
        assert section.model is not None
        rows[section] = list(
            section.model.objects.filter(client=client).select_related("updated_by")
        )
    # One key lookup for every sealed field of every section (they share the client's key).
    keyring.preload(
        [client, *(r for section_rows in rows.values() for r in section_rows)],
        ["name", *_SEALED],
    )
    entries: dict[str, list[EntryView]] = {}
    retracted: dict[str, int] = {}
    for section, section_rows in rows.items():
        entries[section.key] = [
            _view(section, r) for r in section_rows if r.status == EntryStatus.ACTIVE
        ]
        retracted[section.key] = sum(r.status != EntryStatus.ACTIVE for r in section_rows)
    return entries, retracted


def health_record(actor: User, client_id: uuid.UUID) -> HealthRecord:
    """The whole record of one client (the record page and the API's GET)."""
    client = Client.objects.get(pk=client_id)
    decision = require(actor, Action.RECORD_VIEW, client_scope(client), purpose=PURPOSE)
    with transaction.atomic():
        entries, retracted = _read_entries(client)
        vital_sets = vitals.recent_sets(client.id)
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.RECORD_VIEW),
            purpose=decision.purpose(PURPOSE),
            client_id=str(client.id),
            detail={"entries": sum(len(v) for v in entries.values()), "vitals": len(vital_sets)},
        )
    return HealthRecord(
        client=_header(client, decision),
        entries=entries,
        retracted=retracted,
        vital_sets=vital_sets,
        emergency=decision.emergency,
    )


def editable_entry(
    actor: User, client_id: uuid.UUID, section: str, entry_id: uuid.UUID | None
) -> EntryView | None:
    """An entry's current values for its edit form (for those allowed to edit), ledgered.
    For a one-entry section (lifestyle) without an id: the current entry, if any."""
    spec = sections.get(section)
    client = check_can_update(actor=actor, client_id=client_id)
    if spec.model is None:
        return None
    with transaction.atomic():
        found = spec.model.objects.filter(client=client, status=EntryStatus.ACTIVE)
        row = found.get(pk=entry_id) if entry_id else found.first() if spec.singleton else None
        if row is None:
            return None
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.RECORD_VIEW),
            purpose=PURPOSE,
            client_id=str(client.id),
            resource_type=spec.resource_type,
            resource_id=str(row.pk),
            detail={"section": spec.key, "for": "edit"},
        )
        return _view(spec, row)


def entry_history(
    actor: User, client_id: uuid.UUID, *, entry_id: uuid.UUID | None = None
) -> list[RevisionView]:
    """Every version of one entry (or of the whole record), newest first: who changed what,
    when and why, with the values of each version."""
    client = Client.objects.get(pk=client_id)
    decision = require(actor, Action.RECORD_VIEW, client_scope(client), purpose=PURPOSE)
    with transaction.atomic():
        found = EntryRevision.objects.filter(client=client).select_related("changed_by")
        if entry_id is not None:
            found = found.filter(entry_id=entry_id)
        revisions = list(found)
        keyring.preload(revisions, ["snapshot", "reason"])
        ledger.record(
            actor=actor_of(actor),
            action=HISTORY_ACTION,
            purpose=decision.purpose(PURPOSE),
            client_id=str(client.id),
            detail={"entry": str(entry_id) if entry_id else "", "versions": len(revisions)},
        )
    return [
        RevisionView(
            section=r.section,
            entry_id=r.entry_id,
            version=r.version,
            status=r.status,
            changed_fields=tuple(r.changed_fields),
            changed_by=r.changed_by.shown_name if r.changed_by else "",
            changed_at=r.changed_at,
            reason=r.reason,
            values=json.loads(r.snapshot),
        )
        for r in revisions
    ]
