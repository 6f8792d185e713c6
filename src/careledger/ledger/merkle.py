"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing for the audit ledger.

Why RFC 9162:

* Domain separation. A leaf is hashed as SHA-256(0x00 ‖ leaf) and an interior node as
  SHA-256(0x01 ‖ left ‖ right), so no interior node can be passed off as a leaf (or the other way
  round). Without the prefixes, the 64 bytes of two child hashes would be a valid "leaf" whose
  hash equals their parent, a second preimage that lets a forger prove a leaf that was never
  appended.
* Standard proofs. Inclusion proofs (§2.1.3) and consistency proofs (§2.1.4) follow the RFC byte
  for byte, so an outside witness (a partner institution, an auditor, a client) can check them
  with any Certificate Transparency library instead of trusting our code.

The tree over n leaves is MTH(D[n]) of §2.1.1: split at the largest power of two smaller than n;
an unbalanced right edge is promoted, never padded or duplicated. An empty tree's root is
SHA-256 of the empty string.

`Frontier` keeps only the right edge of the tree (one perfect-subtree root per set bit of the
size), so the ledger can append in O(log n) without reading earlier leaves and store the whole
state in a single database row.

Pure module: standard library only, no Django. Hashes are raw 32-byte `bytes`; hex appears only
in `Frontier.to_json` / `Frontier.from_json`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 ‖ leaf): the hash of one ledger entry (its canonical JSON bytes)."""
    return hashlib.sha256(_LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right): the hash of an interior node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def canonical_json(obj: Any) -> bytes:
    """Serialise an audit event to the exact bytes that form its ledger leaf.

    A leaf *is* this encoding: object keys sorted, no insignificant whitespace (separators
    "," and ":"), non-ASCII characters written as themselves and encoded as UTF-8. The same event
    always gives the same bytes, whatever the key order of the dict it was built from, so the
    leaf hash can be recomputed from the stored text. NaN and ±infinity have no JSON form and
    raise ValueError; events should carry strings and integers rather than floats.

    This is deliberately plain `json.dumps`, not RFC 8785 (JCS): keys sort by code point, not by
    UTF-16 unit, and floats use Python's repr. Both only differ for inputs the ledger never writes
    (keys outside the BMP, floats), and a leaf is verified from its stored bytes, not re-encoded.
    """
    return json.dumps(
        obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n >= 2): the k of RFC 9162 §2.1.1."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1 from the leaf hashes, bottom-up, O(n) time.

    Pairing level by level and promoting an odd last node unchanged builds exactly the tree that
    MTH's "split at the largest power of two smaller than n" rule defines.
    """
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def fold_right(roots: Sequence[bytes]) -> bytes:
    """MTH of consecutive perfect subtrees given by their roots, largest first.

    The tree over n leaves is the perfect subtrees of its binary digits joined from the right:
    node(A, node(B, C)) for sizes 8 + 4 + 1. `Frontier.root` and the database-backed proofs
    both end here.
    """
    if not roots:
        return EMPTY_ROOT
    acc = roots[-1]
    for node in reversed(roots[:-1]):
        acc = node_hash(node, acc)
    return acc


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")
    return value


class Frontier:
    """The right edge of the tree: one perfect-subtree root per set bit of `size`, largest first.

    For size 13 (0b1101) `nodes` holds the roots of leaves 0-7, 8-11 and 12. Appending merges
    equal-sized subtrees like carries in binary addition, so an append is O(log n) and needs no
    earlier leaf; `root()` folds the subtrees from the right, which is MTH of every leaf so far.
    """

    __slots__ = ("nodes", "size")

    def __init__(self, size: int = 0, nodes: Sequence[bytes] | None = None) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError("frontier size must be a non-negative integer")
        self.size: int = size
        self.nodes: list[bytes] = [_check_hash(n, "frontier node") for n in nodes or ()]
        if len(self.nodes) != size.bit_count():
            raise ValueError("frontier does not match its size")

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf (its `leaf_hash`, not its data)."""
        node = _check_hash(leaf_hash, "leaf hash")
        size = self.size
        while size & 1:
            node = node_hash(self.nodes.pop(), node)
            size >>= 1
        self.nodes.append(node)
        self.size += 1

    def push(self, leaf_hash: bytes) -> list[bytes]:
        """Add the next leaf and return the perfect subtrees it completes, by level.

        Element L is the root of the subtree of 2**L leaves that ends with this leaf (element 0
        is the leaf hash itself); there are as many as the new size has trailing zero bits, plus
        one. The ledger persists the large ones as tiles, so proofs need not read every leaf.
        """
        node = _check_hash(leaf_hash, "leaf hash")
        completed = [node]
        size = self.size
        while size & 1:
            node = node_hash(self.nodes.pop(), node)
            completed.append(node)
            size >>= 1
        self.nodes.append(node)
        self.size += 1
        return completed

    def root(self) -> bytes:
        """MTH of all leaves appended so far (EMPTY_ROOT for size 0)."""
        return fold_right(self.nodes)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready state for a database row: {"size": n, "nodes": [hex, ...]}."""
        return {"size": self.size, "nodes": [n.hex() for n in self.nodes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Frontier:
        """Inverse of `to_json`; `{}` (an unset JSON column) is the empty frontier.

        Raises ValueError on anything malformed rather than carrying on from a corrupt state.
        """
        if not isinstance(data, dict):
            raise ValueError("frontier must be a JSON object")
        nodes = data.get("nodes", [])
        if not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes):
            raise ValueError("frontier nodes must be a list of hex strings")
        return cls(data.get("size", 0), [bytes.fromhex(n) for n in nodes])

    def __repr__(self) -> str:
        return f"Frontier(size={self.size}, root={self.root().hex()})"


def _path(index: int, hashes: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf-to-root order."""
    n = len(hashes)
    if n <= 1:
        return []
    k = _split(n)
    if index < k:
        return [*_path(index, hashes[:k]), root_from_leaf_hashes(hashes[k:])]
    return [*_path(index - k, hashes[k:]), root_from_leaf_hashes(hashes[:k])]


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Audit path for leaf `index` in the tree over `leaf_hashes` (RFC 9162 §2.1.3.1).

    O(n) hashing: every sibling subtree root is recomputed from the leaves.
    """
    hashes = list(leaf_hashes)
    if not 0 <= index < len(hashes):
        raise ValueError("index outside the tree")
    return _path(index, hashes)


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """True iff `proof` shows `leaf_hash` at `index` in the tree of `size` with `root`.

    RFC 9162 §2.1.3.2, step by step. As in the RFC, `size` is bound only through `root`: take
    both from the same signed tree head.
    """
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def _subproof(m: int, hashes: list[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1."""
    n = len(hashes)
    if m == n:
        return [] if complete else [root_from_leaf_hashes(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], complete), root_from_leaf_hashes(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), root_from_leaf_hashes(hashes[:k])]


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Proof that the tree of `old_size` leaves is a prefix of the tree over `leaf_hashes`.

    RFC 9162 §2.1.4.1; empty when the sizes are equal. `old_size` 0 also gives an empty proof
    (every tree extends the empty tree), which `verify_consistency` accepts with EMPTY_ROOT.
    """
    hashes = list(leaf_hashes)
    if not 0 <= old_size <= len(hashes):
        raise ValueError("old size must be within the tree")
    if old_size == 0:
        return []
    return _subproof(old_size, hashes, True)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True iff `proof` shows the tree (`old_size`, `old_root`) is a prefix of (`new_size`,
    `new_root`). RFC 9162 §2.1.4.2, step by step, plus the two trivial cases the RFC leaves to
    the caller: equal sizes (empty proof, equal roots) and an empty old tree (empty proof,
    `old_root` == EMPTY_ROOT).
    """
    if old_size < 0 or old_size > new_size:
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    # 1. An empty proof cannot show that a tree grew.
    if not proof:
        return False
    path = list(proof)
    # 2. If old_size is an exact power of two, the old root is the first node.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # 3-4.
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5-6.
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # 7.
    return sn == 0 and fr == old_root and sr == new_root


__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "canonical_json",
    "consistency_proof",
    "fold_right",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]
