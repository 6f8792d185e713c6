"""The shape of RFC 9162 proofs as leaf ranges, by index arithmetic alone (pure, no hashing).

`merkle.inclusion_proof` and `merkle.consistency_proof` take every leaf hash, which is fine for
tests and small trees but reads the whole log at a million entries. The database-backed proofs
(`careledger.ledger.proofs`) first ask this module *which* subtree roots a proof is made of, as
half-open leaf ranges [lo, hi), then fetch or compute just those.

Every range produced here is an RFC 9162 subtree: its start is a multiple of the largest power
of two not exceeding its length. Its hash, MTH(D[lo:hi]), is therefore the right fold of the
perfect (complete, aligned) subtrees given by the binary digits of its length (`perfect_parts`),
and each perfect subtree of 2**L leaves is either a stored tile node (large L) or computed from
at most one tile's worth of leaf hashes (small L).

The functions transcribe PATH (§2.1.3.1) and SUBPROOF (§2.1.4.1) iteratively: walk down from
the whole tree, note the sibling range at each step, and reverse (proofs run leaf to root).
"""

from __future__ import annotations

Range = tuple[int, int]


def split(n: int) -> int:
    """Largest power of two strictly smaller than n (n >= 2): the k of RFC 9162 §2.1.1."""
    if n < 2:
        raise ValueError("a split needs at least two leaves")
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose roots form the audit path of leaf `index` in the tree of `size`."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")
    path: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + split(hi - lo)
        if index < mid:
            path.append((mid, hi))
            hi = mid
        else:
            path.append((lo, mid))
            lo = mid
    path.reverse()
    return path


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The ranges whose roots form the consistency proof from `old_size` to `new_size`.

    Empty for equal sizes and for an empty old tree, as `merkle.consistency_proof` is.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError("old size must be within the tree")
    if old_size in (0, new_size):
        return []
    proof: list[Range] = []
    lo, hi, m, complete = 0, new_size, old_size, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                proof.append((lo, hi))
            break
        k = split(n)
        if m <= k:
            proof.append((lo + k, hi))
            hi = lo + k
        else:
            proof.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    proof.reverse()
    return proof


def perfect_parts(lo: int, hi: int) -> list[tuple[int, int]]:
    """[lo, hi) as perfect subtrees, largest first, each as (level, index): 2**level leaves
    starting at index * 2**level. MTH(D[lo:hi]) is their right fold (`merkle.fold_right`)."""
    if not 0 <= lo < hi:
        raise ValueError("empty or negative range")
    parts = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        if lo % (1 << level):
            raise ValueError(f"[{lo}, {hi}) is not a subtree of the tree")
        parts.append((level, lo >> level))
        lo += 1 << level
    return parts


def tile_of(level: int, index: int, tile_level: int) -> int | None:
    """The tile (block of 2**tile_level leaves) a small perfect subtree lies in, or None when
    the subtree is itself large enough to be stored as a node."""
    if level >= tile_level:
        return None
    return (index << level) >> tile_level


__all__ = [
    "Range",
    "consistency_ranges",
    "inclusion_ranges",
    "perfect_parts",
    "split",
    "tile_of",
]
