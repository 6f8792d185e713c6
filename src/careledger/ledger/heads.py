"""Signed tree heads (STH), their export to witnesses and the witnesses' co-signatures.

`do_sign_head()` signs the current size and root with the ledger key (created on first use and
kept wrapped by the master key, see `careledger.crypto.signing`). It holds the lock of the
ledger head while it reads size and root, so the pair it signs is one the log really had, and it
is idempotent: when nothing was appended since the latest head, that head is returned and no new
one is made (the ten-minute schedule therefore adds nothing to an idle log). A new signing key
is itself announced by a ledger event, so a key planted later shows up as one the log never
announced.

Witnesses (partner institutions, a regulator) are registered with a name and an Ed25519 public
key. They receive an exported head (with, on request, a consistency proof from the last size
they co-signed), check it, and send back a co-signature, which is verified against the stored
head before it is kept. A witness that saw a different root for the same size proves a split
view: the import refuses it and says so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from careledger.crypto import signing
from careledger.ledger import proofs, sth
from careledger.ledger.models import Cosignature, LedgerHead, SignedTreeHead, Witness
from careledger.ledger.services import SYSTEM, _locked_head, record


class HeadError(ValueError):
    """A head, witness or co-signature request that cannot be honoured (clear message)."""


def now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def tree_head(row: SignedTreeHead) -> sth.TreeHead:
    return sth.TreeHead(row.log_id, row.size, bytes.fromhex(row.root), row.timestamp)


def head_json(row: SignedTreeHead) -> dict[str, Any]:
    keys = signing.public_keys()
    if row.key_id not in keys:
        raise HeadError(f"the key {row.key_id[:16]} that signed head {row.size} is unknown")
    return sth.head_to_json(
        tree_head(row),
        key_id=row.key_id,
        public_key=keys[row.key_id],
        signature=sth.unb64(row.signature, "signature"),
    )


def latest_head() -> SignedTreeHead | None:
    return SignedTreeHead.objects.order_by("-size").first()


def head_at(size: int) -> SignedTreeHead:
    row = SignedTreeHead.objects.filter(size=size).first()
    if row is None:
        raise HeadError(f"no signed tree head at size {size}")
    return row


def head_covering(seq: int) -> SignedTreeHead:
    """The smallest signed head that includes entry `seq`, signing a new one if none does."""
    row = SignedTreeHead.objects.filter(size__gt=seq).order_by("size").first()
    return row or do_sign_head()


def ensure_signer() -> signing.Signer:
    """The ledger key, created on first use; its creation is announced in the ledger (so a key
    planted later is one the log never announced) and the log gets its id at the same time."""
    with transaction.atomic():
        signer, created = signing.current_signer()
        if created:
            record(
                actor=SYSTEM,
                action="ledger.key.create",
                detail={
                    "key_id": signer.key_id,
                    "public_key": sth.b64(signer.public_key),
                    "algorithm": sth.ALGORITHM,
                },
            )
        if not LedgerHead.objects.filter(pk=1).exclude(log_id="").exists():
            head = _locked_head()
            if not head.log_id:
                head.log_id = f"careledger:{uuid.uuid4().hex}"
                head.save(update_fields=["log_id", "updated_at"])
    return signer


def log_id() -> str:
    head = LedgerHead.objects.filter(pk=1).only("log_id").first()
    return head.log_id if head else ""


def do_sign_head() -> SignedTreeHead:
    """Sign the current tree (idempotent: returns the latest head if the size is unchanged)."""
    with transaction.atomic():
        signer = ensure_signer()
        head = _locked_head()
        latest = latest_head()
        if latest is not None and latest.size == head.size:
            return latest
        if head.size == 0:
            raise HeadError("the ledger is empty: there is nothing to sign yet")
        th = sth.TreeHead(head.log_id, head.size, bytes.fromhex(head.root), now_ms())
        if latest is not None and th.timestamp < latest.timestamp:
            th = sth.TreeHead(th.log_id, th.size, th.root, latest.timestamp)  # clock stepped back
        return SignedTreeHead.objects.create(
            log_id=th.log_id,
            size=th.size,
            root=th.root.hex(),
            timestamp=th.timestamp,
            key_id=signer.key_id,
            signature=sth.b64(signer.sign(th.message())),
        )


def do_rotate_key() -> SignedTreeHead:
    """Retire the signing key and sign the current tree with a new one (announced in the ledger
    like the first). Heads signed before stay checkable with the retired key, which stays
    published; witnesses and clients should pin the new key id from now on."""
    with transaction.atomic():
        _locked_head()  # no head is signed half-way through the switch
        old = signing.retire_current()
        signer = ensure_signer()
        record(
            actor=SYSTEM,
            action="ledger.key.rotate",
            detail={"key_id": signer.key_id, "retired": old},
        )
        return do_sign_head()


def public_key_info() -> dict[str, Any]:
    """What verifiers need: the current key, every key that ever signed, and the log id."""
    signer = ensure_signer()
    return {
        "algorithm": sth.ALGORITHM,
        "log_id": log_id(),
        "key_id": signer.key_id,
        "public_key": sth.b64(signer.public_key),
        "keys": [
            {"key_id": kid, "public_key": sth.b64(pub)}
            for kid, pub in sorted(signing.public_keys().items())
        ],
        "tree_head_format": sth.TREE_HEAD_FORMAT,
    }


def export_head(size: int | None = None, from_size: int | None = None) -> dict[str, Any]:
    """A signed head as JSON for a witness, optionally with a consistency proof from the size
    the witness last co-signed (so it can check that the log only grew)."""
    row = do_sign_head() if size is None else head_at(size)
    data = head_json(row)
    if from_size is not None:
        if not 0 <= from_size <= row.size:
            raise HeadError(f"--from-size must be between 0 and {row.size}")
        data["consistency"] = {
            "from_size": from_size,
            "proof": [h.hex() for h in proofs.consistency_proof(from_size, row.size)],
        }
    return data


def do_add_witness(*, name: str, public_key: str) -> Witness:
    name = name.strip()
    if not name or len(name) > 64:
        raise HeadError("a witness name must be 1-64 characters")
    try:
        raw = sth.parse_public_key(public_key)
    except sth.FormatError as exc:
        raise HeadError(f"witness key: {exc}") from exc
    try:
        with transaction.atomic():
            witness = Witness.objects.create(
                name=name, public_key=sth.b64(raw), key_id=sth.key_id(raw)
            )
            record(
                actor=SYSTEM,
                action="ledger.witness.add",
                detail={"witness": name, "key_id": witness.key_id},
            )
    except IntegrityError as exc:
        raise HeadError(f"a witness named {name!r} or with this key is already registered") from exc
    return witness


@dataclass(frozen=True)
class Imported:
    witness: str
    size: int
    created: bool


def do_import_cosignature(*, data: Any) -> Imported:
    """Verify a witness's co-signature against our stored head and keep it; HeadError if not."""
    try:
        cosig = sth.cosignature_from_json(data)
    except sth.FormatError as exc:
        raise HeadError(f"not a co-signature: {exc}") from exc
    witness = Witness.objects.filter(key_id=cosig.key_id).first()
    if witness is None:
        raise HeadError(
            f"unknown witness key {cosig.key_id[:16]}: register it first with "
            "`careledger ledger witness add NAME PUBKEY`"
        )
    head = SignedTreeHead.objects.filter(size=cosig.size).first()
    if head is None:
        raise HeadError(f"we never signed a tree head of size {cosig.size}")
    ours = tree_head(head)
    if (cosig.log_id, cosig.root, cosig.head_timestamp) != (ours.log_id, ours.root, ours.timestamp):
        raise HeadError(
            f"witness {witness.name} co-signed a different head for size {cosig.size} than ours "
            "(another log id, root or time): refused; if the roots differ, someone has been "
            "shown a different history (split view) and must be investigated"
        )
    message = sth.cosignature_message(ours, cosig.timestamp)
    public = sth.unb64(witness.public_key, "witness key")
    if not sth.verify_signature(public, message, cosig.signature):
        raise HeadError(
            f"the co-signature does not verify with witness {witness.name}'s key: refused"
        )
    with transaction.atomic():
        _obj, created = Cosignature.objects.get_or_create(
            head=head,
            witness=witness,
            defaults={"timestamp": cosig.timestamp, "signature": sth.b64(cosig.signature)},
        )
        if created:
            record(
                actor=SYSTEM,
                action="ledger.cosignature.import",
                detail={"witness": witness.name, "size": head.size},
            )
    return Imported(witness.name, head.size, created)


__all__ = [
    "HeadError",
    "Imported",
    "do_add_witness",
    "do_import_cosignature",
    "do_rotate_key",
    "do_sign_head",
    "ensure_signer",
    "export_head",
    "head_at",
    "head_covering",
    "head_json",
    "latest_head",
    "log_id",
    "public_key_info",
    "tree_head",
]
