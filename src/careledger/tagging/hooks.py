"""What other apps call when a client's facts change: re-evaluate their tags after commit.

`facts_changed(client_ids=...)` is called by imports and record edits inside their transaction;
it enqueues `reevaluate_clients` with `transaction.on_commit`, so a rolled-back change enqueues
nothing and the task reads the committed data. The task is idempotent (a duplicate delivery
finds nothing to change). Cheap to call: no query here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction

MAX_IDS_PER_TASK = 2000


def facts_changed(*, client_ids: Iterable[uuid.UUID | str]) -> None:
    ids = sorted({str(c) for c in client_ids})
    if not ids:
        return
    from careledger.tagging.tasks import reevaluate_clients

    for start in range(0, len(ids), MAX_IDS_PER_TASK):
        chunk = ids[start : start + MAX_IDS_PER_TASK]
        transaction.on_commit(lambda chunk=chunk: reevaluate_clients.delay(chunk))


def institution_changed(*, institution_id: uuid.UUID, trigger: str) -> None:
    """A rule was published or retired: re-evaluate everyone of the institution after commit."""
    from careledger.tagging.tasks import reevaluate_institution

    inst = str(institution_id)
    transaction.on_commit(lambda: reevaluate_institution.delay(inst, trigger))
