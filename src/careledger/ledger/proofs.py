"""RFC 9162 inclusion and consistency proofs from the database, in O(log n) reads.

A proof is a list of subtree roots (`treemath` says which leaf ranges). Each range splits into
perfect subtrees; those of 2**TILE_LEVEL leaves or more are stored `LedgerNode` rows (one query
fetches all of them), the smaller ones lie inside at most a couple of tiles and are hashed from
those tiles' leaf hashes (one range query, at most a few hundred short rows). So a proof at a
million entries reads about twenty nodes and a few hundred leaf hashes instead of a million.

Entries below a committed size never change, so proofs read without locks. If a node is missing
(a ledger older than tiles whose backfill has not run, or tampering), the proof falls back to the
leaves for that subtree, slower but correct, and says so in the log; `ledger verify` reports it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import connection

from careledger.ledger import merkle, treemath
from careledger.ledger.models import TILE_LEVEL, LedgerEntry, LedgerHead, LedgerNode, node_key

log = logging.getLogger(__name__)


class ProofError(ValueError):
    """The proof cannot be made: a size or index outside the log, or a missing entry."""


# Plain SQL on the proof path (three small queries): the ORM's query building cost more than
# the queries themselves. Table names come from the models; values are bound parameters.
_HEAD = LedgerHead._meta.db_table
_NODES = LedgerNode._meta.db_table
_ENTRIES = LedgerEntry._meta.db_table


def _rows(sql: str, params: list[int]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def tree_size() -> int:
    rows = _rows(f"SELECT size FROM {_HEAD} WHERE id = %s", [1])  # noqa: S608
    return rows[0][0] if rows else 0


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _leaf_hashes(spans: Iterable[tuple[int, int]]) -> dict[int, bytes]:
    merged = _merge(spans)
    if not merged:
        return {}
    where = " OR ".join(["(seq >= %s AND seq < %s)"] * len(merged))
    params = [bound for span in merged for bound in span]
    found = {
        seq: bytes.fromhex(h)
        for seq, h in _rows(f"SELECT seq, leaf_hash FROM {_ENTRIES} WHERE {where}", params)  # noqa: S608
    }
    for lo, hi in merged:
        for seq in range(lo, hi):
            if seq not in found:
                raise ProofError(f"entry {seq} is missing from the ledger")
    return found


def range_hashes(ranges: list[treemath.Range]) -> list[bytes]:
    """MTH(D[lo:hi]) for each RFC 9162 subtree range, from stored nodes and tile leaves."""
    parts = [treemath.perfect_parts(lo, hi) for lo, hi in ranges]
    wanted = {node_key(level, index) for ps in parts for level, index in ps if level >= TILE_LEVEL}
    nodes = {}
    if wanted:
        marks = ", ".join(["%s"] * len(wanted))
        sql = f"SELECT id, hash FROM {_NODES} WHERE id IN ({marks})"  # noqa: S608
        nodes = {key: bytes.fromhex(h) for key, h in _rows(sql, sorted(wanted))}
    spans = set()
    for ps in parts:
        for level, index in ps:
            if level < TILE_LEVEL or node_key(level, index) not in nodes:
                spans.add((index << level, (index + 1) << level))
    missing = wanted - nodes.keys()
    if missing:
        log.warning("ledger proof: %d tile nodes missing, hashing leaves instead", len(missing))
    leaves = _leaf_hashes(spans)

    def part_hash(level: int, index: int) -> bytes:
        stored = nodes.get(node_key(level, index))
        if stored is not None:
            return stored
        lo = index << level
        return merkle.root_from_leaf_hashes([leaves[s] for s in range(lo, lo + (1 << level))])

    return [merkle.fold_right([part_hash(level, index) for level, index in ps]) for ps in parts]


def _check_size(size: int, *, at_least: int = 0) -> None:
    if size < at_least or size > tree_size():
        raise ProofError(f"tree size {size} is outside the log")


def root_at(size: int) -> bytes:
    """The Merkle root of the first `size` entries."""
    _check_size(size)
    if size == 0:
        return merkle.EMPTY_ROOT
    return range_hashes([(0, size)])[0]


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """Audit path of entry `index` in the tree of the first `size` entries (RFC 9162 §2.1.3)."""
    _check_size(size, at_least=1)
    if not 0 <= index < size:
        raise ProofError(f"entry {index} is not in the tree of size {size}")
    return range_hashes(treemath.inclusion_ranges(index, size))


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    """Proof that the first `old_size` entries are a prefix of the first `new_size` (§2.1.4)."""
    _check_size(new_size)
    if not 0 <= old_size <= new_size:
        raise ProofError("the first size must be between 0 and the second")
    return range_hashes(treemath.consistency_ranges(old_size, new_size))


def leaf_hash(seq: int) -> bytes:
    rows = _rows(f"SELECT leaf_hash FROM {_ENTRIES} WHERE seq = %s", [seq])  # noqa: S608
    if not rows:
        raise ProofError(f"entry {seq} does not exist")
    return bytes.fromhex(rows[0][0])


__all__ = [
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "range_hashes",
    "root_at",
    "tree_size",
]
