"""What the report import calls when reports land: link each to its visit, after commit.

`reports_landed(report_ids=...)` is called inside the import's transaction; it enqueues
`link_reports` with `transaction.on_commit`, so a rolled-back import links nothing and the task
reads committed rows. Idempotent (a linked report is not linked again). No query here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction

MAX_IDS_PER_TASK = 2000


def reports_landed(*, report_ids: Iterable[uuid.UUID | str]) -> None:
    ids = sorted({str(r) for r in report_ids})
    if not ids:
        return
    from careledger.booking.tasks import link_reports

    for start in range(0, len(ids), MAX_IDS_PER_TASK):
        chunk = ids[start : start + MAX_IDS_PER_TASK]
        transaction.on_commit(lambda chunk=chunk: link_reports.delay(chunk))
