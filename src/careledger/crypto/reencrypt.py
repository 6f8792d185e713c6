"""Re-encryption after a data-key rotation: move every sealed value onto its owner's newest DEK.

Idempotent and resumable: each batch re-seals only tokens whose key is not the owner's current
one, and walks rows in primary-key order from a cursor, so an interrupted run simply continues
(or starts over and skips what is done). Writes go straight to the column with `update()` so
that `updated_at` and the registry history are not disturbed: the plaintext does not change.
Rows whose versions the audit ledger seals get their new digests committed in the same
transaction (one ledger event per batch), since the stored tokens did change.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction

from careledger.crypto import aead, keyring
from careledger.crypto.fields import EncryptedTextField, Sealed, seal_value

BATCH = 500


@dataclass(frozen=True)
class BatchResult:
    model: str
    resealed: int
    last_pk: str | None  # None: the model is done


def sealed_models() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return sorted(found, key=lambda pair: pair[0]._meta.label)


def reencrypt_batch(label: str, after_pk: str | None = None, size: int = BATCH) -> BatchResult:
    model = apps.get_model(label)
    fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
    rows = model.objects.order_by("pk")
    if after_pk is not None:
        rows = rows.filter(pk__gt=after_pk)
    batch = list(rows[:size])
    if not batch:
        return BatchResult(label, 0, None)
    resealed = 0
    changed: list[models.Model] = []
    with transaction.atomic():
        for row in batch:
            scope, owner = row.data_key_owner()  # type: ignore[attr-defined]
            current = keyring.current(scope, owner).id
            changes = {}
            for field in fields:
                value = row.__dict__.get(field.attname)
                if not isinstance(value, Sealed) or aead.key_id_of(value.token) == current:
                    continue
                plaintext = getattr(row, field.attname)
                changes[field.attname] = Sealed(seal_value(row, field, plaintext))
            if changes:
                model.objects.filter(pk=row.pk).update(**changes)
                row.__dict__.update(changes)
                changed.append(row)
                resealed += 1
        _reseal_in_ledger(label, changed)
    return BatchResult(label, resealed, str(batch[-1].pk))


def _reseal_in_ledger(label: str, rows: list[models.Model]) -> None:
    """New tokens change a sealed row's digest: commit the new versions with the batch, so
    `ledger verify` does not take re-encryption for tampering (only rows already sealed)."""
    from careledger.ledger import services as ledger

    sealed = ledger.already_sealed(rows)
    if sealed:
        ledger.record(
            actor=ledger.SYSTEM,
            action="keys.reencrypt.batch",
            detail={"model": label, "resealed": len(sealed)},
            sealed=sealed,
        )


def reencrypt_all(size: int = BATCH) -> int:
    """Run every batch in this process (the CLI); the Celery task chains batches instead."""
    total = 0
    for model, _fields in sealed_models():
        cursor: str | None = None
        while True:
            result = reencrypt_batch(model._meta.label, cursor, size)
            total += result.resealed
            if result.last_pk is None:
                break
            cursor = result.last_pk
    return total
