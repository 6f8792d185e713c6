"""The report's preview: the same content the PDF will hold, for the page and the API, read
under `report.print` (whoever may not print may not preview) and ledgered as `report.preview`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from careledger.access.enforce import actor_of, require
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.ledger import services as ledger
from careledger.reports.gather import gather
from careledger.reports.models import ReportPrint
from careledger.reports.services import PREVIEW_EVENT, PRINT

PURPOSE = "care"


def report_preview(actor: User, client_id: uuid.UUID) -> tuple[dict[str, Any], list[ReportPrint]]:
    """(content, earlier prints of this client, newest first)."""
    client = Client.objects.get(pk=client_id)
    decision = require(actor, PRINT, client_scope(client), purpose=PURPOSE)
    doc = gather(actor, client_id, purpose=PURPOSE)
    with transaction.atomic():
        prints = list(ReportPrint.objects.filter(client=client).select_related("printed_by")[:20])
        ledger.record(
            actor=actor_of(actor),
            action=PREVIEW_EVENT,
            purpose=decision.purpose(PURPOSE),
            client_id=str(client.id),
            resource_type="ReportPrint",
            detail={"prints": len(prints)},
        )
    return doc, prints
