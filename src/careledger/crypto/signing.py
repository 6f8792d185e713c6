"""Signing keys (Ed25519): created on first use, kept only wrapped by the master key (KEK).

Why here and not in the ledger: key custody is one concern with one set of rules. The private
key is 32 random bytes handled exactly like a data key: wrapped by the KMS adapter
(`careledger.crypto.kms`) with associated data that names its purpose and key id, never written
unwrapped, opened in memory for the moment it signs. Replacing the KMS adapter with Vault
transit or a cloud KMS therefore covers this key too. The public key is stored in the clear and
published (`/api/ledger/public-key`, `careledger ledger public-key`); its id is its fingerprint.

Creation races safely: a partial unique constraint allows one current key per purpose; the
loser of a race reads the winner's key. When the master key rotates, the signing key is
re-wrapped the next time it is used (or by `rewrap_signing_keys()`), so the old KEK can go.
`check_custody()` lets `ledger verify` prove a stored key really is one this installation made:
its wrapped private half opens under our KMS and matches the public half (someone with only
database access cannot plant a key of their own and re-sign history with it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import IntegrityError, transaction
from django.utils import timezone

from careledger.crypto.keyring import kms
from careledger.crypto.kms import KeyError_
from careledger.crypto.models import SigningKey

LEDGER = "ledger-sth"
SHARE = "share-bundle"  # signs share Bundles (JWS) for partner institutions
_RAW = serialization.Encoding.Raw


def fingerprint(public_key: bytes) -> str:
    """SHA-256 of the raw public key, hex (the same as `careledger.ledger.sth.key_id`)."""
    return hashlib.sha256(public_key).hexdigest()


def _public_bytes(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Signer:
    key_id: str
    public_key: bytes
    _private: Ed25519PrivateKey = field(repr=False)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def private_key(self) -> Ed25519PrivateKey:
        """The opened key, for a JOSE library that signs with the key object itself (the share
        Bundle's JWS, careledger.sharing.jws); never stored, never logged."""
        return self._private


def _wrap(row: SigningKey, private: Ed25519PrivateKey) -> None:
    """Wrap the private half under the current KEK (never stored unwrapped)."""
    raw = private.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    row.kek_id, row.wrapped = kms().wrap(raw, row.wrap_aad())


def _new_row(purpose: str) -> tuple[SigningKey, Ed25519PrivateKey]:
    private = Ed25519PrivateKey.generate()
    public = _public_bytes(private)
    row = SigningKey(key_id=fingerprint(public), purpose=purpose, public_key=public)
    _wrap(row, private)
    return row, private


def _open(row: SigningKey) -> Ed25519PrivateKey:
    raw = kms().unwrap(row.kek_id, bytes(row.wrapped), row.wrap_aad())
    private = Ed25519PrivateKey.from_private_bytes(raw)
    if _public_bytes(private) != bytes(row.public_key):
        raise KeyError_(f"signing key {row.key_id[:16]} does not match its public key")
    return private


def _rewrap(row: SigningKey, private: Ed25519PrivateKey) -> None:
    _wrap(row, private)
    row.rewrapped_at = timezone.now()
    row.save(update_fields=["kek_id", "wrapped", "rewrapped_at"])


def current_signer(purpose: str = LEDGER) -> tuple[Signer, bool]:
    """The current key for `purpose`, created on first use. Returns (signer, created)."""
    row = SigningKey.objects.filter(purpose=purpose, retired_at__isnull=True).first()
    created = False
    if row is None:
        row, _ = _new_row(purpose)
        try:
            with transaction.atomic():
                row.save(force_insert=True)
            created = True
        except IntegrityError:
            row = SigningKey.objects.get(purpose=purpose, retired_at__isnull=True)
    private = _open(row)
    if row.kek_id != kms().current_id:
        _rewrap(row, private)
    return Signer(row.key_id, bytes(row.public_key), private), created


def retire_current(purpose: str = LEDGER) -> list[str]:
    """Retire the current key (the next signature creates a new one); returns the retired key
    ids. What it signed stays checkable: retired keys stay stored and published."""
    rows = SigningKey.objects.filter(purpose=purpose, retired_at__isnull=True)
    retired = list(rows.values_list("key_id", flat=True))
    rows.update(retired_at=timezone.now())
    return retired


def public_keys(purpose: str = LEDGER) -> dict[str, bytes]:
    """Every key id of `purpose` (current and retired) → raw public key."""
    rows = SigningKey.objects.filter(purpose=purpose).values_list("key_id", "public_key")
    return {key_id: bytes(public) for key_id, public in rows}


def check_custody(row: SigningKey) -> str | None:
    """None if `row` is a key this installation made; otherwise what is wrong with it."""
    if fingerprint(bytes(row.public_key)) != row.key_id:
        return "its key id is not the fingerprint of its public key"
    try:
        _open(row)
    except KeyError_ as exc:
        return f"its private key is not held by this installation's master key ({exc})"
    except ValueError:
        return "its wrapped private key is malformed"
    return None


def rewrap_signing_keys() -> int:
    """Re-wrap every signing key not yet under the current KEK (resumable, like DEKs)."""
    done = 0
    for row in SigningKey.objects.exclude(kek_id=kms().current_id):
        _rewrap(row, _open(row))
        done += 1
    return done


__all__ = [
    "LEDGER",
    "Signer",
    "check_custody",
    "current_signer",
    "fingerprint",
    "public_keys",
    "retire_current",
    "rewrap_signing_keys",
]
