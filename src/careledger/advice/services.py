"""Issuing an advice sheet (开具健康建议单): the one write of a client's advice.

`do_issue_sheet` asks the policy (`advice.issue`: the care team's health manager or doctor; a
nurse reads but never issues; never under break-glass), assembles the sheet from the current
catalogue and the client's keys, and — when the issuer posted the fingerprint of the sheet they
were shown — refuses if it changed in between (a new result, an edited item), so nobody issues
advice they did not see. Then one transaction: the `AdviceSheet` snapshot (who, when, the keys,
which of them the advice answered, the sealed personal note), one `AdviceSheetItem` per item
version shown, and the ledger event sealing them all.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.advice import sheets
from careledger.advice.models import AdviceSheet, AdviceSheetItem
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.clients.validation import ValidationFailed
from careledger.ledger import services as ledger

ISSUE = Action.ADVICE_ISSUE
MAX_NOTE = 2000


def check_can_issue(*, actor: User, client_id: uuid.UUID) -> Client:
    """The client, if the actor may issue them advice (refusals are ledgered)."""
    client = Client.objects.get(pk=client_id)
    require(actor, ISSUE, client_scope(client), purpose=sheets.PURPOSE)
    return client


def clean_note(note: str) -> str:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationFailed({"note": [_("At most %(n)d characters.") % {"n": MAX_NOTE}]})
    return text


def do_issue_sheet(
    *, actor: User, client_id: uuid.UUID, note: str = "", fingerprint: str = ""
) -> AdviceSheet:
    """Issue the client's advice as it stands now; `fingerprint` (from the page the issuer saw)
    makes a changed sheet a refusal rather than a surprise."""
    client = check_can_issue(actor=actor, client_id=client_id)
    text = clean_note(note)
    with transaction.atomic():
        Client.objects.select_for_update().only("id").get(pk=client.id)
        built = sheets.assemble_for(client)
        if fingerprint and fingerprint != built.fingerprint:
            raise ValidationFailed(
                {
                    "__all__": [
                        _(
                            "The advice changed since the page was opened (new results or an "
                            "edited catalogue). Review it again before issuing."
                        )
                    ]
                }
            )
        sheet = AdviceSheet(
            institution_id=client.institution_id,
            client=client,
            issued_by=actor,
            issued_at=timezone.now(),
            client_keys=sorted(built.keys.keys),
            matched_keys=sorted(built.sheet.matched_keys),
            needs_clinician=bool(built.sheet.needs_clinician),
            note=text,
        )
        sheet.save()
        rows = [
            AdviceSheetItem(
                sheet=sheet,
                item_id=uuid.UUID(entry.item.id),
                position=position,
                general=not entry.groups,
                groups=[list(g) for g in entry.groups],
            )
            for position, entry in enumerate(built.sheet.items, start=1)
        ]
        AdviceSheetItem.objects.bulk_create(rows)
        ledger.record(
            actor=actor_of(actor),
            action=str(ISSUE),
            purpose=sheets.PURPOSE,
            client_id=str(client.id),
            resource_type="AdviceSheet",
            resource_id=str(sheet.id),
            # Counts only: which advice a client got is clinical content, kept out of the
            # ledger (auditors read it); the row seals commit to it.
            detail={"items": len(rows), "keys": len(built.keys.keys), "note": bool(text)},
            sealed=[sheet, *rows],
        )
    return sheet
