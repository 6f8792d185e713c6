"""Every write to the health record: add, edit and retract an entry of any section.

One generic path for all sections (the section table in `sections.py` says what differs): the
policy first (`record.update` on this client: a care-team health manager or doctor; never under
break-glass), then the section's validation, then one transaction that locks the client's record,
writes the entry, its revision (that version's sealed snapshot) and the ledger event sealing both.
Vital-sign sets take the same path into the observation store (`vitals.py`).

Entries are never deleted. A mistaken entry is retracted: marked entered-in-error with a reason,
kept in the history, left out of the record page and the API.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.clients.validation import ValidationFailed
from careledger.ledger import services as ledger
from careledger.observations.models import Report
from careledger.records import sections, vitals
from careledger.records.models import EntryRevision, EntryStatus, RecordEntry
from careledger.records.sections import Section
from careledger.records.validation import as_text, clean_reason, validate_entry, validate_vitals
from careledger.tagging.hooks import facts_changed

PURPOSE = "care"
MIN_RETRACT_REASON = 4


@dataclass(frozen=True)
class Saved:
    section: str
    id: uuid.UUID
    version: int


def check_can_update(*, actor: User, client_id: uuid.UUID) -> Client:
    """The client, if the actor may change their record (refusals are ledgered)."""
    client = Client.objects.get(pk=client_id)
    require(actor, Action.RECORD_UPDATE, client_scope(client), purpose=PURPOSE)
    return client


def snapshot(section: Section, row: RecordEntry) -> dict[str, str]:
    return {name: as_text(getattr(row, name)) for name in section.fields}


def _lock_record(client: Client) -> None:
    """Serialise writes to one client's record (the client row's lock): the one-lifestyle
    check and version bumps cannot interleave with another desk's."""
    Client.objects.select_for_update().only("id").get(pk=client.id)


def _commit(
    *,
    actor: User,
    client: Client,
    section: Section,
    row: models.Model,
    version: int,
    status: str,
    values: dict[str, str],
    changed: list[str],
    op: str,
    reason: str = "",
) -> Saved:
    """The revision of the version just written, and the ledger event sealing row and revision."""
    revision = EntryRevision.objects.create(
        institution_id=client.institution_id,
        client=client,
        section=section.key,
        entry_id=row.pk,
        version=version,
        status=status,
        changed_fields=sorted(changed),
        snapshot=json.dumps(values, ensure_ascii=False, sort_keys=True),
        reason=reason,
        changed_by=actor,
        changed_at=timezone.now(),
    )
    ledger.record(
        actor=actor_of(actor),
        action=str(Action.RECORD_UPDATE),
        purpose=PURPOSE,
        client_id=str(client.id),
        resource_type=section.resource_type,
        resource_id=str(row.pk),
        detail={"section": section.key, "op": op, "version": version, "fields": sorted(changed)},
        sealed=[row, revision],
    )
    facts_changed(client_ids=[client.id])  # the client's tags are re-evaluated after commit
    return Saved(section.key, row.pk, version)


def _add_vitals(actor: User, client: Client, section: Section, values: dict[str, Any]) -> Saved:
    report = vitals.write_set(client=client, values=values, now=timezone.now())
    measured = vitals.snapshot(report, list(report.observations.all()))
    return _commit(
        actor=actor,
        client=client,
        section=section,
        row=report,
        version=report.version,
        status=EntryStatus.ACTIVE,
        values=measured,
        changed=sorted(measured),
        op="add",
    )


def do_add_entry(
    *, actor: User, client_id: uuid.UUID, section: str, data: Mapping[str, Any]
) -> Saved:
    """Add an entry (or a vital-sign set); ValidationFailed names every bad field."""
    spec = sections.get(section)
    client = check_can_update(actor=actor, client_id=client_id)
    now = timezone.now()
    if spec.model is None:
        values = validate_vitals(data, now=now, birth_date=client.birth_date)
    else:
        values = validate_entry(
            spec.key, data, today=timezone.localdate(now), birth_date=client.birth_date
        )
    with transaction.atomic():
        _lock_record(client)
        if spec.model is None:
            return _add_vitals(actor, client, spec, values)
        if spec.singleton and spec.model.objects.filter(client=client, status="active").exists():
            raise ValidationFailed(
                {"__all__": [_("This client already has a current entry here: edit it instead.")]}
            )
        row = spec.model(
            institution_id=client.institution_id,
            client=client,
            recorded_by=actor,
            updated_by=actor,
            **values,
        )
        row.save()
        return _commit(
            actor=actor,
            client=client,
            section=spec,
            row=row,
            version=row.version,
            status=row.status,
            values=snapshot(spec, row),
            changed=list(spec.fields),
            op="add",
        )


def _entry_for_write(spec: Section, client: Client, entry_id: uuid.UUID) -> RecordEntry:
    """The entry under lock; `DoesNotExist` if it is not this client's (the views show 404)."""
    assert spec.model is not None
    row = spec.model.objects.select_for_update().get(pk=entry_id, client=client)
    if row.status != EntryStatus.ACTIVE:
        raise ValidationFailed({"__all__": [_("This entry was entered in error: it is closed.")]})
    return row


def do_update_entry(
    *,
    actor: User,
    client_id: uuid.UUID,
    section: str,
    entry_id: uuid.UUID,
    data: Mapping[str, Any],
    reason: str = "",
) -> Saved:
    """Edit an entry; its previous version stays in the history. No change, no new version."""
    spec = sections.get(section)
    client = check_can_update(actor=actor, client_id=client_id)
    if spec.model is None:
        raise ValidationFailed(
            {"__all__": [_("Vital signs are not edited: retract the set and enter it again.")]}
        )
    values = validate_entry(
        spec.key, data, today=timezone.localdate(), birth_date=client.birth_date
    )
    with transaction.atomic():
        _lock_record(client)
        row = _entry_for_write(spec, client, entry_id)
        before = snapshot(spec, row)
        for name, value in values.items():
            setattr(row, name, value)
        after = snapshot(spec, row)
        changed = [name for name in spec.fields if before[name] != after[name]]
        if not changed:
            return Saved(spec.key, row.pk, row.version)
        row.version += 1
        row.updated_by = actor
        row.save()
        return _commit(
            actor=actor,
            client=client,
            section=spec,
            row=row,
            version=row.version,
            status=row.status,
            values=after,
            changed=changed,
            op="update",
            reason=clean_reason(reason),
        )


def _retract_vitals(
    actor: User, client: Client, spec: Section, entry_id: uuid.UUID, reason: str
) -> Saved:
    report = Report.objects.select_for_update().get(pk=entry_id, client=client)
    if report.source_name != vitals.SOURCE:
        raise ValidationFailed(
            {"__all__": [_("Results of an imported report are corrected by the exam centre.")]}
        )
    current = list(report.observations.filter(is_current=True))
    if not current:
        raise ValidationFailed({"__all__": [_("This entry was entered in error: it is closed.")]})
    values = vitals.snapshot(report, current)
    vitals.retract_set(report=report, now=timezone.now())
    return _commit(
        actor=actor,
        client=client,
        section=spec,
        row=report,
        version=report.version,
        status=EntryStatus.ENTERED_IN_ERROR,
        values=values,
        changed=["status"],
        op="retract",
        reason=reason,
    )


def do_retract_entry(
    *, actor: User, client_id: uuid.UUID, section: str, entry_id: uuid.UUID, reason: str
) -> Saved:
    """Mark an entry entered-in-error (实录有误), with the reason; it is never deleted."""
    spec = sections.get(section)
    client = check_can_update(actor=actor, client_id=client_id)
    reason = clean_reason(reason)
    if len(reason) < MIN_RETRACT_REASON:
        raise ValidationFailed(
            {
                "reason": [
                    _("Say why the entry is wrong (at least %(n)d characters).")
                    % {"n": MIN_RETRACT_REASON}
                ]
            }
        )
    with transaction.atomic():
        _lock_record(client)
        if spec.model is None:
            return _retract_vitals(actor, client, spec, entry_id, reason)
        row = _entry_for_write(spec, client, entry_id)
        row.status = EntryStatus.ENTERED_IN_ERROR
        row.version += 1
        row.updated_by = actor
        row.save()
        return _commit(
            actor=actor,
            client=client,
            section=spec,
            row=row,
            version=row.version,
            status=row.status,
            values=snapshot(spec, row),
            changed=["status"],
            op="retract",
            reason=reason,
        )
