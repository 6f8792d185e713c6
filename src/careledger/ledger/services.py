"""Appending audit events to the ledger (invariant 2: every access is in the ledger).

`record()` is the only way in. It runs inside the caller's transaction, so an event and the
data access it describes commit or roll back together; a denial is recorded by the access
policy in a transaction of its own, because the refused work is rolled back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from careledger.ledger import merkle
from careledger.ledger.models import LedgerEntry, LedgerHead
from careledger.request_context import current


class Outcome:
    ALLOWED = "allowed"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class Actor:
    """Who did it, as the ledger sees them: ids and a role, never a name."""

    id: str
    role: str
    institution_id: str


SYSTEM = Actor(id="system", role="system", institution_id="")


def content_hash(data: Any) -> str:
    """SHA-256 of a row version's canonical JSON: lets `verify` spot edits behind our back."""
    return hashlib.sha256(merkle.canonical_json(data)).hexdigest()


def _locked_head() -> LedgerHead:
    head = LedgerHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        LedgerHead.objects.get_or_create(pk=1, defaults={"frontier": merkle.Frontier().to_json()})
        head = LedgerHead.objects.select_for_update().get(pk=1)
    return head


def _event(
    actor: Actor,
    action: str,
    outcome: str,
    purpose: str,
    client_id: str,
    resource_type: str,
    resource_id: str,
    detail: dict[str, Any] | None,
    now: Any,
) -> dict[str, Any]:
    ctx = current()
    return {
        "v": 1,
        "time": now.isoformat(timespec="microseconds"),
        "actor": actor.id,
        "role": actor.role,
        "institution": actor.institution_id,
        "action": action,
        "outcome": outcome,
        "purpose": purpose,
        "client": client_id,
        "resource": {"type": resource_type, "id": resource_id} if resource_type else None,
        "request": ctx.request_id if ctx else "",
        "channel": ctx.channel if ctx else "",
        "ip": ctx.ip if ctx else "",
        "detail": detail or {},
    }


def _append(actor: Actor, events: list[dict[str, Any]], now: Any) -> list[LedgerEntry]:
    with transaction.atomic():
        head = _locked_head()
        frontier = merkle.Frontier.from_json(head.frontier) if head.frontier else merkle.Frontier()
        entries = []
        for event in events:
            leaf = merkle.canonical_json(event)
            leaf_hash = merkle.leaf_hash(leaf)
            entries.append(
                LedgerEntry(
                    seq=frontier.size,
                    leaf=leaf.decode("utf-8"),
                    leaf_hash=leaf_hash.hex(),
                    recorded_at=now,
                    action=event["action"],
                    outcome=event["outcome"],
                    actor_id=actor.id,
                    institution_id=actor.institution_id,
                    client_id=event["client"],
                )
            )
            frontier.append(leaf_hash)
        LedgerEntry.objects.bulk_create(entries)
        head.size = frontier.size
        head.frontier = frontier.to_json()
        head.root = frontier.root().hex()
        head.save(update_fields=["size", "frontier", "root", "updated_at"])
    return entries


def record(
    *,
    actor: Actor,
    action: str,
    outcome: str = Outcome.ALLOWED,
    purpose: str = "",
    client_id: str = "",
    resource_type: str = "",
    resource_id: str = "",
    detail: dict[str, Any] | None = None,
) -> LedgerEntry:
    now = timezone.now()
    event = _event(
        actor, action, outcome, purpose, client_id, resource_type, resource_id, detail, now
    )
    return _append(actor, [event], now)[0]


def record_many(
    *,
    actor: Actor,
    action: str,
    client_ids: list[str],
    outcome: str = Outcome.ALLOWED,
    purpose: str = "",
    resource_type: str = "",
    details: list[dict[str, Any]] | None = None,
) -> list[LedgerEntry]:
    """One event per client under a single lock of the head, e.g. for a batch enrolment."""
    now = timezone.now()
    events = [
        _event(
            actor,
            action,
            outcome,
            purpose,
            cid,
            resource_type,
            cid if resource_type else "",
            details[i] if details else None,
            now,
        )
        for i, cid in enumerate(client_ids)
    ]
    return _append(actor, events, now)
