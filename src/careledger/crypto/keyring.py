"""The keyring: finds, creates, unwraps and caches data keys (DEKs).

`current(scope, owner)` gives the newest DEK for encrypting; `by_id(key_id)` opens any version
for decrypting. Unwrapped keys are cached in process memory (they are needed on every page) and
never written anywhere else. Creating a DEK races safely: the unique (scope, owner, version)
constraint decides, and the loser reads the winner's key.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from careledger.crypto.kms import KEY_BYTES, LocalKms, load_kms
from careledger.crypto.models import DataKey, KeyScope


class KeyDestroyed(Exception):
    """The data key was destroyed (crypto-shredding): its data is gone for good."""


@dataclass(frozen=True)
class OpenKey:
    id: uuid.UUID
    material: bytes


@lru_cache(maxsize=1)
def kms() -> LocalKms:
    return load_kms(settings.CARELEDGER_MASTER_KEY, settings.CARELEDGER_KEY_FILE)


_lock = threading.Lock()
_by_id: dict[uuid.UUID, bytes] = {}
_current: dict[tuple[str, uuid.UUID], uuid.UUID] = {}


def clear_cache() -> None:
    """Forget every unwrapped key (tests, rotation, and after destroying a key)."""
    with _lock:
        _by_id.clear()
        _current.clear()
    kms.cache_clear()


def _open(row: DataKey) -> bytes:
    if row.destroyed_at is not None:
        raise KeyDestroyed(f"data key {row.id} was destroyed")
    material = kms().unwrap(row.kek_id, bytes(row.wrapped), row.wrap_aad())
    with _lock:
        _by_id[row.id] = material
    return material


def by_id(key_id: uuid.UUID) -> bytes:
    material = _by_id.get(key_id)
    if material is not None:
        return material
    return _open(DataKey.objects.get(pk=key_id))


def new_data_key(scope: str, owner_id: uuid.UUID, version: int = 1) -> tuple[DataKey, bytes]:
    """Build (unsaved) a fresh DEK wrapped under the current KEK; used singly and in bulk."""
    material = os.urandom(KEY_BYTES)
    row = DataKey(scope=scope, owner_id=owner_id, version=version)
    row.kek_id, row.wrapped = kms().wrap(material, row.wrap_aad())
    return row, material


def remember(row: DataKey, material: bytes) -> None:
    with _lock:
        _by_id[row.id] = material
        _current[(row.scope, row.owner_id)] = row.id


def current(scope: str, owner_id: uuid.UUID) -> OpenKey:
    key_id = _current.get((scope, owner_id))
    if key_id is not None and key_id in _by_id:
        return OpenKey(key_id, _by_id[key_id])
    row = DataKey.objects.filter(scope=scope, owner_id=owner_id).order_by("-version").first()
    if row is None:
        row, material = new_data_key(scope, owner_id)
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            row = DataKey.objects.filter(scope=scope, owner_id=owner_id).order_by("-version")[0]
            material = _open(row)
    else:
        material = _open(row)
    remember(row, material)
    return OpenKey(row.id, material)


def add_version(scope: str, owner_id: uuid.UUID) -> DataKey:
    """Rotate one owner's DEK: new writes use the new version; old tokens still open."""
    latest = DataKey.objects.filter(scope=scope, owner_id=owner_id).order_by("-version").first()
    row, material = new_data_key(scope, owner_id, (latest.version + 1) if latest else 1)
    row.save(force_insert=True)
    remember(row, material)
    return row


def rewrap_all(batch_size: int = 500) -> int:
    """Re-wrap every live DEK not yet under the current KEK. Resumable: safe to re-run."""
    target = kms().current_id
    done = 0
    while True:
        rows = list(
            DataKey.objects.filter(destroyed_at__isnull=True)
            .exclude(kek_id=target)
            .order_by("id")[:batch_size]
        )
        if not rows:
            return done
        now = timezone.now()
        with transaction.atomic():
            for row in rows:
                material = kms().unwrap(row.kek_id, bytes(row.wrapped), row.wrap_aad())
                row.kek_id, row.wrapped = kms().wrap(material, row.wrap_aad())
                row.rewrapped_at = now
            DataKey.objects.bulk_update(rows, ["kek_id", "wrapped", "rewrapped_at"])
        done += len(rows)


def destroy(scope: str, owner_id: uuid.UUID) -> int:
    """Crypto-shred: overwrite every version's wrapped key; nothing sealed under it opens."""
    count = DataKey.objects.filter(scope=scope, owner_id=owner_id).update(
        wrapped=b"", destroyed_at=timezone.now()
    )
    clear_cache()
    return count


__all__ = [
    "KeyDestroyed",
    "KeyScope",
    "OpenKey",
    "add_version",
    "by_id",
    "clear_cache",
    "current",
    "destroy",
    "new_data_key",
    "preload",
    "remember",
    "rewrap_all",
]


def preload(instances: Iterable[Any], field_names: Sequence[str]) -> None:
    """Open, in one query, every data key the given rows' sealed fields need (no N+1 on lists)."""
    from careledger.crypto.aead import key_id_of
    from careledger.crypto.fields import Sealed

    wanted: set[uuid.UUID] = set()
    for instance in instances:
        for name in field_names:
            value = instance.__dict__.get(name)
            if isinstance(value, Sealed):
                wanted.add(key_id_of(value.token))
    missing = {key_id for key_id in wanted if key_id not in _by_id}  # O(page), not O(cache)
    if missing:
        for row in DataKey.objects.filter(pk__in=missing, destroyed_at__isnull=True):
            _open(row)
