"""Ledger routes of the JSON API (mounted at /api/ledger).

* `GET /public-key` — public, no login: the key(s) tree heads are signed with and the log id.
  Publishing it is the point: partners, witnesses and clients check receipts against it.
* `GET /tree-head` — the latest signed tree head.
* `GET /entries/{seq}/inclusion[?size=N]` — a receipt for one entry: leaf, inclusion proof and
  the signed head it leads to (N must be a signed head's size; default: the first head that
  covers the entry, signing one if none does yet).
* `GET /consistency?first=M&second=N` — RFC 9162 consistency proof between two sizes.

Who may ask: auditors (AUDIT_VIEW), and for entries only those of their own institution (the
actor's institution recorded in the entry). Everyone else is refused through
`access.enforce.require`, which ledgers the refusal; an auditor asking for another
institution's entry is refused and ledgered the same way. Every answer is itself ledgered.
A client's own receipts go through the portal, not through here.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from careledger.access.enforce import AccessDenied, actor_of, require
from careledger.access.policy import Decision
from careledger.access.roles import Action
from careledger.ledger import heads, proofs, receipts
from careledger.ledger import services as ledger
from careledger.ledger.models import LedgerEntry, SignedTreeHead

router = Router(tags=["ledger"])
PURPOSE = "audit"


class KeyRead(Schema):
    key_id: str
    public_key: str


class PublicKeyRead(Schema):
    algorithm: str
    log_id: str
    key_id: str
    public_key: str
    keys: list[KeyRead]
    tree_head_format: str


class TreeHeadRead(Schema):
    format: str
    log_id: str
    size: int
    root: str
    timestamp: int
    algorithm: str
    key_id: str
    public_key: str
    signature: str


class ReceiptRead(Schema):
    format: str
    leaf: str
    leaf_index: int
    leaf_hash: str
    tree_size: int
    inclusion_proof: list[str]
    tree_head: TreeHeadRead


class ConsistencyRead(Schema):
    first: int
    second: int
    proof: list[str]
    first_head: TreeHeadRead | None = None
    second_head: TreeHeadRead | None = None


def _refuse(request: HttpRequest, reason: str, **detail: Any) -> None:
    """Ledger a refusal in its own transaction (the refused work never starts), then raise."""
    with transaction.atomic():
        ledger.record(
            actor=actor_of(request.user),
            action=str(Action.AUDIT_VIEW),
            outcome=ledger.Outcome.DENIED,
            purpose=PURPOSE,
            detail={"reason": reason, **detail},
        )
    raise AccessDenied(Decision(False, reason))


def _seen(request: HttpRequest, action: str, **detail: Any) -> None:
    ledger.record(actor=actor_of(request.user), action=action, purpose=PURPOSE, detail=detail)


@router.get("/public-key", response=PublicKeyRead, auth=None)
def public_key(request: HttpRequest):  # type: ignore[no-untyped-def]
    return heads.public_key_info()


@router.get("/tree-head", response=TreeHeadRead)
def tree_head(request: HttpRequest):  # type: ignore[no-untyped-def]
    require(request.user, Action.AUDIT_VIEW, purpose=PURPOSE)
    with transaction.atomic():
        row = heads.latest_head() or heads.do_sign_head()
        _seen(request, "ledger.head.view", size=row.size)
        return heads.head_json(row)


@router.get("/entries/{seq}/inclusion", response=ReceiptRead)
def inclusion(request: HttpRequest, seq: int, size: int | None = None):  # type: ignore[no-untyped-def]
    require(request.user, Action.AUDIT_VIEW, purpose=PURPOSE)
    entry = LedgerEntry.objects.filter(seq=seq).only("seq", "institution_id").first()
    if entry is None:
        raise HttpError(404, "no such ledger entry")
    if entry.institution_id != str(request.user.institution_id):
        _refuse(request, "other_institution", seq=seq)
    with transaction.atomic():
        try:
            receipt = receipts.receipt_for(seq, size=size)
        except proofs.ProofError as exc:
            raise HttpError(400, str(exc)) from exc
        _seen(request, "ledger.proof.inclusion", seq=seq, size=receipt["tree_size"])
    return receipt


@router.get("/consistency", response=ConsistencyRead)
def consistency(request: HttpRequest, first: int, second: int):  # type: ignore[no-untyped-def]
    require(request.user, Action.AUDIT_VIEW, purpose=PURPOSE)
    try:
        proof = proofs.consistency_proof(first, second)
    except proofs.ProofError as exc:
        raise HttpError(400, str(exc)) from exc
    signed = {
        row.size: heads.head_json(row)
        for row in SignedTreeHead.objects.filter(size__in=[first, second])
    }
    with transaction.atomic():
        _seen(request, "ledger.proof.consistency", first=first, second=second)
    return {
        "first": first,
        "second": second,
        "proof": [h.hex() for h in proof],
        "first_head": signed.get(first),
        "second_head": signed.get(second),
    }
