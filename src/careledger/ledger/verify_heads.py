"""Checking signed tree heads, signing keys and witness co-signatures against the replay.

A head is only worth something if (1) its signature verifies with its key, (2) that key is one
this installation made and announced (its private half opens under our master key and matches,
and a `ledger.key.create` entry names it), (3) its root is the root the replay computed at its
size, and (4) it is consistent with the head before it. (1)+(2) catch a forged or re-signed head
(an attacker with database access cannot make a key our KMS will unwrap, and cannot announce it
without rewriting the log, which (3) catches against every earlier head); (3) catches entries
rewritten together with the head row; (4) is checked with a real RFC 9162 consistency proof
from the stored tiles, so a head that was altered consistently with some other history is still
named. Co-signatures are checked with each witness's registered key.
"""

from __future__ import annotations

from careledger.crypto import signing
from careledger.crypto.models import SigningKey
from careledger.ledger import heads as signed_heads
from careledger.ledger import merkle, proofs, sth, treemath
from careledger.ledger.models import Cosignature, SignedTreeHead
from careledger.ledger.replay import Replay


def check_keys(replay: Replay, problems: list[str], trusted: set[str] | None) -> dict[str, bytes]:
    """Problems with the stored signing keys; returns the keys that may be used to check heads."""
    usable: dict[str, bytes] = {}
    for row in SigningKey.objects.filter(purpose=signing.LEDGER):
        name = f"signing key {row.key_id[:16]}"
        custody = signing.check_custody(row)
        if custody:
            problems.append(f"{name}: {custody} (planted or altered key)")
            continue
        announced = replay.announced_keys.get(row.key_id)
        if announced is None:
            problems.append(f"{name}: never announced in the ledger (planted key)")
            continue
        if announced != sth.b64(bytes(row.public_key)):
            problems.append(f"{name}: differs from the public key the ledger announced")
            continue
        usable[row.key_id] = bytes(row.public_key)
    for key_id in replay.announced_keys.keys() - usable.keys():
        if not SigningKey.objects.filter(pk=key_id).exists():
            problems.append(f"signing key {key_id[:16]}: announced but missing (deleted)")
    if trusted is not None:
        usable = {k: v for k, v in usable.items() if k in trusted}
    return usable


def _consistent(old: SignedTreeHead, new: SignedTreeHead) -> bool:
    proof = proofs.range_hashes(treemath.consistency_ranges(old.size, new.size))
    return merkle.verify_consistency(
        old.size, new.size, bytes.fromhex(old.root), bytes.fromhex(new.root), proof
    )


def check_heads(
    replay: Replay, problems: list[str], keys: dict[str, bytes], trusted: set[str] | None
) -> tuple[int, int]:
    """Every stored head and co-signature; returns (heads, co-signatures) checked."""
    log_id = signed_heads.log_id()
    cosigs: dict[int, list[Cosignature]] = {}
    for c in Cosignature.objects.select_related("witness"):
        cosigs.setdefault(c.head_id, []).append(c)
    previous: SignedTreeHead | None = None
    heads = cosignature_count = 0
    # Heads signed after the replay started are left to the next run.
    for row in SignedTreeHead.objects.order_by("size"):
        if row.size not in replay.head_sizes:
            continue
        heads += 1
        name = f"tree head {row.size}"
        try:
            th = signed_heads.tree_head(row)
            signature = sth.unb64(row.signature, "signature")
        except (sth.FormatError, ValueError) as exc:
            problems.append(f"{name}: malformed ({exc})")
            continue
        key = keys.get(row.key_id)
        if key is None:
            why = "not one you trust" if trusted is not None else "unknown or not ours"
            problems.append(f"{name}: signed by key {row.key_id[:16]}, {why} (forged head)")
        elif not sth.verify_signature(key, th.message(), signature):
            problems.append(f"{name}: the signature does not verify (forged or altered head)")
        if row.log_id != log_id:
            problems.append(f"{name}: names log {row.log_id!r}, this log is {log_id!r}")
        if row.size > replay.size:
            problems.append(
                f"{name}: covers {row.size} entries, only {replay.size} exist (entries deleted)"
            )
        elif replay.roots_at.get(row.size) != th.root:
            problems.append(
                f"{name}: its root is not the root of the first {row.size} entries "
                "(history rewritten, or the head altered)"
            )
        if previous is not None:
            if row.timestamp < previous.timestamp:
                problems.append(f"{name}: signed earlier than tree head {previous.size}")
            if row.size <= replay.size:
                try:
                    ok = _consistent(previous, row)
                except proofs.ProofError as exc:
                    problems.append(f"{name}: consistency with {previous.size} unknown: {exc}")
                else:
                    if not ok:
                        problems.append(
                            f"{name}: not consistent with tree head {previous.size} "
                            "(the log did not only grow)"
                        )
        previous = row
        for cosig in cosigs.get(row.pk, ()):
            cosignature_count += 1
            witness = cosig.witness
            try:
                public = sth.unb64(witness.public_key, "witness key")
                signature = sth.unb64(cosig.signature, "signature")
                message = sth.cosignature_message(th, cosig.timestamp)
            except sth.FormatError as exc:
                problems.append(f"{name}: co-signature of {witness.name} malformed ({exc})")
                continue
            if sth.key_id(public) != witness.key_id or not sth.verify_signature(
                public, message, signature
            ):
                problems.append(
                    f"{name}: the co-signature of witness {witness.name} does not verify"
                )
    return heads, cosignature_count
