"""The append-only audit ledger.

Each entry is one audit event as canonical JSON (ids, action, purpose, outcome, time, content
hashes; never a name, phone or value) with its RFC 9162 leaf hash. `LedgerHead` is the single
row that serialises appends: it holds the tree size, the Merkle frontier (one subtree root per
set bit of the size, so an append is O(log n) without reading old entries) and the current root.
Entries are never updated or deleted by the application; `careledger ledger verify` recomputes
every hash and the root, so an edit, deletion, reordering or insertion made behind the
application's back is reported.
"""

from __future__ import annotations

from django.db import models


class LedgerEntry(models.Model):
    seq = models.BigIntegerField(primary_key=True)  # 0-based leaf index in the Merkle tree
    leaf = models.TextField()  # canonical JSON
    leaf_hash = models.CharField(max_length=64)
    recorded_at = models.DateTimeField()
    # Denormalised for the auditor's and the client's queries; all are inside `leaf` too.
    action = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=36, blank=True, db_index=True)
    institution_id = models.CharField(max_length=36, blank=True, db_index=True)
    client_id = models.CharField(max_length=36, blank=True, db_index=True)

    class Meta:
        ordering = ["seq"]


class LedgerHead(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    frontier = models.JSONField(default=dict)
    root = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
