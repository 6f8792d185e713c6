"""Background re-encryption: one batch per task, each enqueueing the next, so the work survives
worker restarts (a lost task is re-run by `careledger keys reencrypt`, which is idempotent)."""

from __future__ import annotations

from celery import shared_task

from careledger.crypto.reencrypt import reencrypt_batch, sealed_models
from careledger.ledger import services as ledger


@shared_task(acks_late=True, name="careledger.crypto.reencrypt")
def reencrypt(label: str | None = None, after_pk: str | None = None, total: int = 0) -> int:
    labels = [m._meta.label for m, _ in sealed_models()]
    label = label or labels[0]
    result = reencrypt_batch(label, after_pk)
    total += result.resealed
    if result.last_pk is not None:
        reencrypt.delay(label, result.last_pk, total)
    elif labels.index(label) + 1 < len(labels):
        reencrypt.delay(labels[labels.index(label) + 1], None, total)
    else:
        ledger.record(actor=ledger.SYSTEM, action="keys.reencrypt", detail={"resealed": total})
    return total
