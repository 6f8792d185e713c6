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
