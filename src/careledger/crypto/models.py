"""Data-encryption keys (DEKs), stored only wrapped by a master key (KEK).

Scopes: one DEK per institution (institution-wide secrets), one per client (so that erasing a
client is destroying one key: crypto-shredding), and one blind-index key per institution (kept
apart so that the index key can never decrypt and the data key can never link).
A new version of a DEK is added on rotation; older versions stay to open older tokens, which name
their key id, until re-encryption has moved every token off them.
"""

from __future__ import annotations

import uuid

from django.db import models


class KeyScope(models.TextChoices):
    INSTITUTION = "institution"
    CLIENT = "client"
    BLIND_INDEX = "blind_index"


class DataKey(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scope = models.CharField(max_length=16, choices=KeyScope.choices)
    owner_id = models.UUIDField()
    version = models.PositiveIntegerField(default=1)
    kek_id = models.CharField(max_length=32)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["scope", "owner_id", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "owner_id", "version"], name="datakey_one_per_version"
            )
        ]

    def __str__(self) -> str:  # ids only: this lands in logs and the admin
        return f"{self.scope}:{self.owner_id}:v{self.version}"

    def wrap_aad(self) -> bytes:
        parts = ("careledger-dek", self.scope, str(self.owner_id), str(self.version), str(self.id))
        return "\x00".join(parts).encode()


class SigningKey(models.Model):
    """An Ed25519 signing key (the audit ledger's tree-head key), stored only wrapped by a KEK.

    The public half is stored in the clear (it is published); the private half is wrapped by the
    current master key exactly like a DEK, with associated data naming its purpose and key id,
    so a wrapped key cannot be swapped in for another. At most one key per purpose is current;
    retired keys stay so that heads they signed can still be checked.
    """

    key_id = models.CharField(max_length=64, primary_key=True)  # SHA-256 of the public key, hex
    purpose = models.CharField(max_length=32)
    public_key = models.BinaryField()
    kek_id = models.CharField(max_length=32)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["purpose", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose"],
                condition=models.Q(retired_at__isnull=True),
                name="signingkey_one_current_per_purpose",
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose}:{self.key_id[:16]}"

    def wrap_aad(self) -> bytes:
        return "\x00".join(("careledger-signing-key", self.purpose, self.key_id)).encode()
