"""Receipts: a self-contained, offline-checkable proof that one ledger entry is in the log.

A receipt carries the entry's leaf text (canonical JSON: ids, action, purpose, outcome, time;
never a name or a value), its index, an RFC 9162 inclusion proof, and the signed tree head the
proof leads to. Anyone holding it and the institution's public key can check, without our
server or database, that the log signed a tree containing exactly this entry; a client uses it
to hold us to "who looked at my record" (谁查看了我的档案).

`receipt_for(seq)` needs the database (imported lazily, so this module stays importable
without Django); `verify_receipt(receipt, public_key)` is pure.

Checks made by `verify_receipt`, in order: the shape; the leaf hash recomputed from the leaf
text; the key id against the public key (and against the key you trust, if you pass one); the
tree head's signature; and the inclusion proof from the leaf hash to the signed root.
"""

from __future__ import annotations

import json
from typing import Any

from careledger.ledger import merkle, sth

RECEIPT_FORMAT = "careledger.receipt/v1"


def receipt_for(seq: int, *, size: int | None = None) -> dict[str, Any]:
    """The receipt of ledger entry `seq` (signing a new tree head if none covers it yet).

    `size` asks for the proof against one particular signed head instead. The caller
    authorises: the portal gives a client receipts for their own entries only; the API gives
    auditors those of their institution. Raises `proofs.ProofError` for an unknown entry or a
    size that is not a signed head covering it.
    """
    from careledger.ledger import heads, proofs
    from careledger.ledger.models import LedgerEntry

    entry = LedgerEntry.objects.filter(seq=seq).only("seq", "leaf", "leaf_hash").first()
    if entry is None:
        raise proofs.ProofError(f"entry {seq} does not exist")
    if size is None:
        head = heads.head_covering(seq)
    else:
        try:
            head = heads.head_at(size)
        except heads.HeadError as exc:
            raise proofs.ProofError(str(exc)) from exc
        if not seq < size:
            raise proofs.ProofError(f"the tree head of size {size} does not cover entry {seq}")
    proof = proofs.inclusion_proof(seq, head.size)
    return {
        "format": RECEIPT_FORMAT,
        "leaf": entry.leaf,
        "leaf_index": entry.seq,
        "leaf_hash": entry.leaf_hash,
        "tree_size": head.size,
        "inclusion_proof": [h.hex() for h in proof],
        "tree_head": heads.head_json(head),
    }


def _hex_list(value: Any) -> list[bytes]:
    if not isinstance(value, list):
        raise sth.FormatError("'inclusion_proof' must be a list of hex hashes")
    out = []
    for item in value:
        if not isinstance(item, str) or len(item) != 64:
            raise sth.FormatError("'inclusion_proof' must be a list of 64-digit hex hashes")
        try:
            out.append(bytes.fromhex(item))
        except ValueError as exc:
            raise sth.FormatError("'inclusion_proof' holds something that is not hex") from exc
    return out


def verify_receipt(receipt: dict[str, Any], public_key: bytes | None = None) -> tuple[bool, str]:
    """(True, what was proven) or (False, why not). Pass the institution's published public
    key (raw 32 bytes) to pin it; without it the key inside the receipt is used, which proves
    the receipt is self-consistent but not whose it is."""
    try:
        if not isinstance(receipt, dict) or receipt.get("format") != RECEIPT_FORMAT:
            return False, f"not a {RECEIPT_FORMAT} receipt"
        leaf = receipt.get("leaf")
        index = receipt.get("leaf_index")
        size = receipt.get("tree_size")
        if not isinstance(leaf, str):
            return False, "'leaf' must be the entry's text"
        if isinstance(index, bool) or not isinstance(index, int):
            return False, "'leaf_index' must be an integer"
        if isinstance(size, bool) or not isinstance(size, int):
            return False, "'tree_size' must be an integer"
        proof = _hex_list(receipt.get("inclusion_proof"))
        signed = sth.head_from_json(receipt.get("tree_head"))
    except sth.FormatError as exc:
        return False, f"malformed receipt: {exc}"
    computed = merkle.leaf_hash(leaf.encode("utf-8"))
    if receipt.get("leaf_hash") not in (None, computed.hex()):
        return False, "the leaf text does not match its leaf hash (the entry was altered)"
    if signed.head.size != size:
        return False, "the tree size differs from the signed tree head's size"
    if public_key is not None and bytes(public_key) != signed.public_key:
        return False, (
            "the tree head was signed with key "
            f"{signed.key_id[:16]}…, not with the public key you trust "
            f"({sth.key_id(bytes(public_key))[:16]}…)"
        )
    ok, reason = signed.verify()
    if not ok:
        return False, reason
    if not merkle.verify_inclusion(index, size, computed, proof, signed.head.root):
        return False, "the inclusion proof does not lead from this entry to the signed root"
    pinned = "the public key you gave" if public_key is not None else "the key in the receipt"
    note = (
        ""
        if public_key is not None
        else ("; compare its key id with the institution's published key (/api/ledger/public-key)")
    )
    return True, (
        f"entry {index} is included in the log {signed.head.log_id} of {size} entries, "
        f"signed by key {signed.key_id[:16]}… ({pinned}){note}"
    )


def load(text: str) -> dict[str, Any]:
    """Parse a receipt file; ValueError with a clear message if it is not JSON."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the receipt is not JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise ValueError("the receipt must be a JSON object")
    return data


__all__ = ["RECEIPT_FORMAT", "load", "receipt_for", "verify_receipt"]
