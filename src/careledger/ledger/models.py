"""The append-only audit ledger.

Each entry is one audit event as canonical JSON (ids, action, purpose, outcome, time, content
hashes; never a name, phone or value) with its RFC 9162 leaf hash. `LedgerHead` is the single
row that serialises appends: it holds the tree size, the Merkle frontier (one subtree root per
set bit of the size, so an append is O(log n) without reading old entries) and the current root.
Entries are never updated or deleted by the application; `careledger ledger verify` recomputes
every hash and the root, so an edit, deletion, reordering or insertion made behind the
application's back is reported.

Around the entries: `LedgerNode` stores the roots of large complete subtrees (tiles) so that
proofs cost O(log n) reads; `RowSeal` indexes the latest sealed digest of each row of a sealed
table; `SignedTreeHead`, `Witness` and `Cosignature` hold the signed heads and the outside
witnesses' co-signatures. The format and the reasons: docs/decisions/0002-ledger-format.md.
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
    # Names this log in its signed tree heads; set once, when the first head is signed.
    log_id = models.CharField(max_length=100, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)


# Perfect subtrees of 2**TILE_LEVEL leaves and more are stored as nodes; smaller ones are
# recomputed from the leaf hashes of their tile. 16 leaves: a proof reads about twenty nodes and
# at most two tiles (the entry's own and the partial one at the right edge), some thirty short
# rows, and hashes about as many nodes; the node table grows by one row per 8 entries. (256-leaf
# tiles made a proof read and hash ~500 leaves: 2 ms instead of a few tenths.)
TILE_LEVEL = 4
TILE_MASK = (1 << TILE_LEVEL) - 1


def node_key(level: int, index: int) -> int:
    """Primary key of a stored node: level in the top bits, index below (one index lookup)."""
    return (level << 56) | index


class LedgerNode(models.Model):
    """The root of a complete subtree of 2**level leaves (level >= TILE_LEVEL), covering
    entries index * 2**level to (index + 1) * 2**level - 1. Written by the append that
    completes it, in the same transaction, and never changed."""

    id = models.BigIntegerField(primary_key=True)  # node_key(level, index)
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]


class RowSeal(models.Model):
    """The latest sealed version of one row of a sealed table: the digest of its stored values
    as committed by ledger entry `seq` ("" when that entry recorded its deletion). An index of
    what the ledger already proves, so `verify` can compare live rows without a full replay."""

    table = models.CharField(max_length=63)
    row_id = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, blank=True)
    seq = models.BigIntegerField()

    class Meta:
        ordering = ["table", "row_id"]
        constraints = [
            models.UniqueConstraint(fields=["table", "row_id"], name="rowseal_one_per_row")
        ]


class SignedTreeHead(models.Model):
    """A tree head signed with the ledger key (see `careledger.ledger.sth` for the bytes)."""

    log_id = models.CharField(max_length=100)
    size = models.BigIntegerField(unique=True)
    root = models.CharField(max_length=64)
    timestamp = models.BigIntegerField()  # milliseconds since the Unix epoch, UTC
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=100)  # base64
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["size"]


class Witness(models.Model):
    """An outside party (a partner institution, a regulator) that co-signs our tree heads."""

    name = models.CharField(max_length=64, unique=True)
    public_key = models.CharField(max_length=64)  # base64 of the raw Ed25519 key
    key_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    """A witness's signature over one of our signed tree heads, verified before it is stored."""

    head = models.ForeignKey(SignedTreeHead, on_delete=models.PROTECT, related_name="cosignatures")
    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="cosignatures")
    timestamp = models.BigIntegerField()  # when the witness signed, ms since the epoch
    signature = models.CharField(max_length=100)  # base64
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["head", "witness"]
        constraints = [models.UniqueConstraint(fields=["head", "witness"], name="cosignature_once")]
