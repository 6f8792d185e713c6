"""Every read of a client's advice: authorised by the policy (`advice.view`: the care team —
health manager, doctor and follow-up nurse, who calls about it; break-glass reads as an
emergency) and ledgered in the same transaction.

* `advice_sheet` — the sheet as it would be issued now (assembled from the current catalogue
  and the client's keys) and the list of sheets already issued: one `advice.view` event.
* `issued_sheet` — one issued sheet exactly as it was given: the item versions shown then (even
  if the wording has been edited or retired since), why each was there, who issued it and when,
  and the personal note (opened from its seal). One `advice.sheet.view` event. This is what the
  printed report uses; `latest_issued_sheet` finds the newest.

Nurses see the client's name masked, as everywhere.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import transaction

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.advice import assembly, sheets
from careledger.advice.gather import ClientKeys
from careledger.advice.models import AdviceSheet, AdviceSheetItem
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.crypto import keyring
from careledger.ledger import services as ledger

VIEW = Action.ADVICE_VIEW
SHEET_VIEW_ACTION = "advice.sheet.view"


@dataclass(frozen=True)
class IssuedSummary:
    id: uuid.UUID
    issued_at: dt.datetime
    issued_by: str
    items: int
    needs_clinician: bool
    has_note: bool


@dataclass(frozen=True)
class AdvicePage:
    client: sheets.ClientHeader
    sheet: assembly.Sheet
    keys: ClientKeys
    fingerprint: str
    issued: list[IssuedSummary]
    emergency: bool


@dataclass(frozen=True)
class IssuedItem:
    code: str
    version: int
    domain: str
    title: str
    body: str
    citation: str
    needs_clinician: bool
    general: bool
    keys: tuple[str, ...]
    reasons: tuple[str, ...]
    still_current: bool  # this exact version is still the one in use


@dataclass(frozen=True)
class IssuedSheet:
    id: uuid.UUID
    client: sheets.ClientHeader
    issued_at: dt.datetime
    issued_by: str
    sections: list[tuple[str, list[IssuedItem]]]  # specific advice by domain
    general: list[IssuedItem]
    client_keys: list[str]
    matched_keys: list[str]
    needs_clinician: bool
    note: str


def _authorised(actor: User, client_id: uuid.UUID):  # type: ignore[no-untyped-def]
    client = Client.objects.get(pk=client_id)
    return client, require(actor, VIEW, client_scope(client), purpose=sheets.PURPOSE)


def _summaries(client: Client) -> list[IssuedSummary]:
    rows = AdviceSheet.objects.filter(client=client).select_related("issued_by")
    counts: dict[uuid.UUID, int] = {}
    for sheet_id in AdviceSheetItem.objects.filter(sheet__client=client).values_list(
        "sheet_id", flat=True
    ):
        counts[sheet_id] = counts.get(sheet_id, 0) + 1
    return [
        IssuedSummary(
            id=s.id,
            issued_at=s.issued_at,
            issued_by=s.issued_by.shown_name,
            items=counts.get(s.id, 0),
            needs_clinician=s.needs_clinician,
            has_note=bool(s.__dict__.get("note")),
        )
        for s in rows
    ]


def advice_sheet(actor: User, client_id: uuid.UUID) -> AdvicePage:
    """The client's advice as it stands now, and the sheets already issued."""
    client, decision = _authorised(actor, client_id)
    with transaction.atomic():
        built = sheets.assemble_for(client)
        issued = _summaries(client)
        ledger.record(
            actor=actor_of(actor),
            action=str(VIEW),
            purpose=decision.purpose(sheets.PURPOSE),
            client_id=str(client.id),
            detail={
                "items": len(built.sheet.items),
                "keys": len(built.keys.keys),
                "issued": len(issued),
            },
        )
    return AdvicePage(
        client=sheets.header(client, decision),
        sheet=built.sheet,
        keys=built.keys,
        fingerprint=built.fingerprint,
        issued=issued,
        emergency=decision.emergency,
    )


def _issued_items(sheet: AdviceSheet) -> list[tuple[AdviceSheetItem, IssuedItem]]:
    rows = list(sheet.items.select_related("item").order_by("position"))
    current = set(sheet.items.filter(item__status="active").values_list("item_id", flat=True))
    label = sheets.labeller(sheet.institution_id)
    out = []
    for row in rows:
        version = sheets.entry(row.item)
        groups = [tuple(g) for g in row.groups]
        out.append(
            (
                row,
                IssuedItem(
                    code=version.code,
                    version=version.version,
                    domain=version.domain,
                    title=version.title,
                    body=version.body,
                    citation=version.citation,
                    needs_clinician=version.needs_clinician,
                    general=row.general,
                    keys=tuple(sorted({k for g in groups for k in g})),
                    reasons=tuple(" + ".join(label(k) for k in g) for g in groups),
                    still_current=row.item_id in current,
                ),
            )
        )
    return out


def issued_sheet(actor: User, client_id: uuid.UUID, sheet_id: uuid.UUID) -> IssuedSheet:
    """One issued sheet as it was given (`AdviceSheet.DoesNotExist` if it is not this
    client's). For the sheet page, the API and the printed report."""
    client, decision = _authorised(actor, client_id)
    with transaction.atomic():
        sheet = AdviceSheet.objects.select_related("issued_by").get(pk=sheet_id, client=client)
        keyring.preload([sheet], ["note"])
        items = _issued_items(sheet)
        ledger.record(
            actor=actor_of(actor),
            action=SHEET_VIEW_ACTION,
            purpose=decision.purpose(sheets.PURPOSE),
            client_id=str(client.id),
            resource_type="AdviceSheet",
            resource_id=str(sheet.id),
            detail={"items": len(items)},
        )
    specific = [i for _row, i in items if not i.general]
    sections = []
    for domain in assembly.DOMAINS:
        in_domain = [i for i in specific if i.domain == domain]
        if in_domain:
            sections.append((domain, in_domain))
    return IssuedSheet(
        id=sheet.id,
        client=sheets.header(client, decision),
        issued_at=sheet.issued_at,
        issued_by=sheet.issued_by.shown_name,
        sections=sections,
        general=[i for _row, i in items if i.general],
        client_keys=list(sheet.client_keys),
        matched_keys=list(sheet.matched_keys),
        needs_clinician=sheet.needs_clinician,
        note=sheet.note,
    )


def latest_issued_sheet(actor: User, client_id: uuid.UUID) -> IssuedSheet | None:
    """The newest sheet issued to the client, or None (authorised and ledgered either way)."""
    client, decision = _authorised(actor, client_id)
    newest = AdviceSheet.objects.filter(client=client).values_list("id", flat=True).first()
    if newest is None:
        with transaction.atomic():
            ledger.record(
                actor=actor_of(actor),
                action=SHEET_VIEW_ACTION,
                purpose=decision.purpose(sheets.PURPOSE),
                client_id=str(client.id),
                detail={"items": 0, "found": False},
            )
        return None
    return issued_sheet(actor, client_id, newest)
