"""Row digests: the hash of a stored row version that a write commits to the ledger.

Computed over what is stored (sealed tokens, not plaintext, so the ledger cannot be used to
confirm a guessed phone number), for every concrete column except `updated_at`. Recomputing it
from the database later and comparing with the ledger shows whether the row was changed behind
the application's back.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.db import models

from careledger.crypto.fields import Sealed
from careledger.ledger.services import content_hash

_SKIPPED = {"updated_at"}


def _plain(value: Any) -> Any:
    if isinstance(value, Sealed):
        return value.token
    if isinstance(value, dt.datetime | dt.date | uuid.UUID | decimal.Decimal):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def row_digest(instance: models.Model) -> str:
    data = {
        field.column: _plain(instance.__dict__.get(field.attname))
        for field in instance._meta.concrete_fields
        if field.attname not in _SKIPPED
    }
    data["_table"] = instance._meta.db_table
    return content_hash(data)
