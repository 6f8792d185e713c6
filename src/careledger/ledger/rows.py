"""Row digests: the hash of a stored row version that a write commits to the ledger.

Computed over what is stored (sealed tokens, not plaintext, so the ledger cannot be used to
confirm a guessed phone number), for every concrete column except `updated_at`. Recomputing it
from the database later and comparing with the ledger shows whether the row was changed behind
the application's back.

The digest must come out the same from the instance a service just saved and from the row read
back later, on SQLite and PostgreSQL alike, so every value is first normalised the way the
database returns it (`field.to_python`), then written as a JSON-able plain value. A row whose
encrypted field still holds plaintext has not been saved yet: sealing it would commit a digest
of a value the database never holds, so it is refused.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import uuid
from typing import Any

from django.db import models

from careledger.crypto.fields import EncryptedTextField, Sealed
from careledger.ledger import merkle

_SKIPPED = {"updated_at"}


def content_hash(data: Any) -> str:
    """SHA-256 of canonical JSON: the digest of a row version (or any JSON-able content)."""
    return hashlib.sha256(merkle.canonical_json(data)).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Sealed):
        return value.token
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    if isinstance(value, dt.datetime | dt.date | uuid.UUID | decimal.Decimal):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _stored(instance: models.Model, field: models.Field) -> Any:
    value = instance.__dict__.get(field.attname)
    if isinstance(field, EncryptedTextField):
        if isinstance(value, str) and value:
            raise ValueError(
                f"{instance._meta.label}.{field.attname} is not sealed yet: seal rows after saving"
            )
        return value
    if value is not None and not isinstance(field, models.JSONField):
        value = field.to_python(value)
    return value


def table_of(instance: models.Model) -> str:
    return instance._meta.db_table


def _children_of(instance: models.Model) -> list[models.Model] | None:
    """Rows a parent's digest also covers: a model opts in with `sealed_children()` (and may
    offer `prefetch_sealed_children(rows)`, which leaves them in `_sealed_children`, so that
    `verify` reads them a chunk at a time). Used where one write creates many small rows that
    only ever change together (a report and its observations): one seal, not one per row."""
    prefetched = instance.__dict__.get("_sealed_children")
    if prefetched is not None:
        return prefetched
    children = getattr(instance, "sealed_children", None)
    return children() if callable(children) else None


def row_digest(instance: models.Model) -> str:
    data = {
        field.column: _plain(_stored(instance, field))
        for field in instance._meta.concrete_fields
        if field.attname not in _SKIPPED
    }
    data["_table"] = instance._meta.db_table
    children = _children_of(instance)
    if children is not None:
        data["_children"] = sorted([str(child.pk), row_digest(child)] for child in children)
    return content_hash(data)
