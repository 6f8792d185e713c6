"""What the auditor reads: audit events, break-glass grants and alerts, each read ledgered.

Scope: an auditor sees the events of their own institution's staff; when they look up one client
of their institution, they see every event on that client, whoever made it (so a refused attempt
from another institution's user shows up where it matters). Events are paged by ledger sequence
(`before=<seq>`), newest first, so a page costs an index range scan however long the ledger is.
Client identifiers are never shown here: the auditor sees the client's internal id, and can look
a client up by card number or id without the record being opened.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.access.enforce import actor_of, require
from careledger.access.models import BreakGlassGrant, ReviewStatus
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.audit import labels
from careledger.audit.models import Alert, AlertStatus
from careledger.audit.services import check_review
from careledger.clients import identifiers as ids
from careledger.clients import indexing
from careledger.clients.models import Client, MembershipCard
from careledger.ledger import services as ledger
from careledger.ledger.models import LedgerEntry

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000


class FilterError(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class EventFilter:
    username: str = ""
    client: str = ""  # card number or internal client id
    action: str = ""
    outcome: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    def used(self) -> list[str]:
        """Which filters were set (names only: the ledger never holds the values typed)."""
        return [name for name, value in self.__dict__.items() if value]


@dataclass(frozen=True)
class EventRow:
    seq: int
    time: dt.datetime
    actor_id: str
    actor_name: str
    role: str
    action: str
    outcome: str
    purpose: str
    client_id: str
    resource: str
    ip: str
    request_id: str
    reason: str

    @property
    def role_label(self) -> str:
        return labels.role_label(self.role)

    @property
    def purpose_label(self) -> str:
        return labels.purpose_label(self.purpose)


def _resolve_client(actor: User, text: str) -> str:
    text = text.strip()
    try:
        client_id = uuid.UUID(text)
    except ValueError:
        return _client_by_card(actor, text)
    if not Client.objects.filter(pk=client_id, institution_id=actor.institution_id).exists():
        raise FilterError({"client": _("No client of your institution has this id.")})
    return str(client_id)


def _client_by_card(actor: User, text: str) -> str:
    try:
        number = ids.normalise_card_number(text)
    except ids.IdentifierError as exc:
        raise FilterError({"client": _("Enter a card number or a client id.")}) from exc
    card = MembershipCard.objects.filter(
        number_index=indexing.card_index(actor.institution_id, number)
    ).first()
    if card is None:
        raise FilterError({"client": _("No client of your institution has this card number.")})
    return str(card.client_id)


def _resolve_user(actor: User, username: str) -> str:
    user = User.objects.filter(
        username__iexact=username.strip(), institution_id=actor.institution_id
    ).first()
    if user is None:
        raise FilterError({"username": _("No user of your institution has this user name.")})
    return str(user.id)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _events(actor: User, flt: EventFilter) -> tuple[QuerySet[LedgerEntry], str]:
    client_id = _resolve_client(actor, flt.client) if flt.client else ""
    if client_id:
        qs = LedgerEntry.objects.filter(client_id=client_id)
    else:
        qs = LedgerEntry.objects.filter(institution_id=str(actor.institution_id))
    if flt.username:
        qs = qs.filter(actor_id=_resolve_user(actor, flt.username))
    if flt.action:
        qs = qs.filter(action__startswith=flt.action.strip())
    if flt.outcome:
        qs = qs.filter(outcome=flt.outcome)
    if flt.since:
        qs = qs.filter(recorded_at__gte=_day_start(flt.since))
    if flt.until:
        qs = qs.filter(recorded_at__lt=_day_start(flt.until + dt.timedelta(days=1)))
    return qs.order_by("-seq"), client_id


def _rows(entries: list[LedgerEntry]) -> list[EventRow]:
    user_ids = {e.actor_id for e in entries if uuid_or_none(e.actor_id)}
    users = {str(u.id): u for u in User.objects.filter(pk__in=user_ids)}
    rows = []
    for e in entries:
        leaf: dict[str, Any] = json.loads(e.leaf)
        user = users.get(e.actor_id)
        resource = leaf.get("resource") or {}
        rows.append(
            EventRow(
                seq=e.seq,
                time=e.recorded_at,
                actor_id=e.actor_id,
                actor_name=f"{user.shown_name} ({user.username})" if user else e.actor_id,
                role=leaf.get("role", ""),
                action=e.action,
                outcome=e.outcome,
                purpose=leaf.get("purpose", ""),
                client_id=e.client_id,
                resource=f"{resource.get('type', '')}/{resource.get('id', '')}" if resource else "",
                ip=leaf.get("ip", ""),
                request_id=leaf.get("request", ""),
                reason=str((leaf.get("detail") or {}).get("reason", "")),
            )
        )
    return rows


def uuid_or_none(value: str) -> uuid.UUID | None:
    """Ledger actor ids are user UUIDs, or words such as "anonymous" and "system"."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def search_events(
    actor: User, flt: EventFilter, *, before: int | None = None
) -> tuple[list[EventRow], int | None]:
    """One page of events, newest first; returns the rows and the `before` of the next page."""
    require(actor, Action.AUDIT_VIEW, purpose="oversight")
    qs, client_id = _events(actor, flt)
    if before is not None:
        qs = qs.filter(seq__lt=before)
    with transaction.atomic():
        entries = list(qs[: PAGE_SIZE + 1])
        ledger.record(
            actor=actor_of(actor),
            action="audit.search",
            purpose="oversight",
            client_id=client_id,
            detail={"filters": flt.used(), "results": min(len(entries), PAGE_SIZE)},
        )
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return _rows(entries), (entries[-1].seq if more else None)


CSV_HEADER = [
    "seq",
    "time",
    "actor_id",
    "actor",
    "role",
    "action",
    "outcome",
    "purpose",
    "client_id",
    "resource",
    "ip",
    "request_id",
    "reason",
]


def export_events(actor: User, flt: EventFilter) -> Iterator[list[str]]:
    """Rows for a CSV export (header first), at most EXPORT_LIMIT events; the export itself is
    ledgered before the first row leaves."""
    require(actor, Action.AUDIT_EXPORT, purpose="oversight")
    qs, client_id = _events(actor, flt)
    total = min(qs.count(), EXPORT_LIMIT)
    with transaction.atomic():
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.AUDIT_EXPORT),
            purpose="oversight",
            client_id=client_id,
            detail={"filters": flt.used(), "rows": total},
        )
    return _export_rows(qs[:EXPORT_LIMIT])


def _export_rows(qs: QuerySet[LedgerEntry]) -> Iterator[list[str]]:
    yield CSV_HEADER
    batch: list[LedgerEntry] = []
    for entry in qs.iterator(chunk_size=2000):
        batch.append(entry)
        if len(batch) == 2000:
            yield from (_csv_row(r) for r in _rows(batch))
            batch = []
    yield from (_csv_row(r) for r in _rows(batch))


def _csv_row(r: EventRow) -> list[str]:
    values = [
        str(r.seq),
        timezone.localtime(r.time).isoformat(timespec="seconds"),
        r.actor_id,
        r.actor_name,
        r.role,
        r.action,
        r.outcome,
        r.purpose,
        r.client_id,
        r.resource,
        r.ip,
        r.request_id,
        r.reason,
    ]
    return [neutralise_formula(v) for v in values]


def neutralise_formula(cell: str) -> str:
    """A spreadsheet runs a cell that starts with = + - @ (or tab/CR) as a formula: prefix ' ."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


# --- break-glass review --------------------------------------------------------------------


@dataclass(frozen=True)
class GrantRow:
    grant: BreakGlassGrant
    reads: list[EventRow]


def break_glass_queue(actor: User) -> tuple[list[BreakGlassGrant], list[BreakGlassGrant]]:
    """Pending grants (oldest first) and the last 50 reviewed ones."""
    require(actor, Action.BREAK_GLASS_REVIEW, purpose="oversight")
    mine = BreakGlassGrant.objects.filter(institution_id=actor.institution_id).select_related(
        "user", "reviewed_by"
    )
    with transaction.atomic():
        pending = list(mine.filter(review_status=ReviewStatus.PENDING).order_by("granted_at"))
        done = list(mine.exclude(review_status=ReviewStatus.PENDING)[:50])
        ledger.record(
            actor=actor_of(actor),
            action="access.break_glass.queue",
            purpose="oversight",
            detail={"pending": len(pending)},
        )
    return pending, done


def break_glass_detail(actor: User, grant_id: uuid.UUID) -> GrantRow:
    """One grant with its reason and every event its holder made on that client meanwhile."""
    grant = BreakGlassGrant.objects.select_related("user", "reviewed_by").get(pk=grant_id)
    check_review(actor=actor, grant=grant)
    until = grant.ended_at or grant.expires_at
    with transaction.atomic():
        entries = list(
            LedgerEntry.objects.filter(
                actor_id=str(grant.user_id),
                client_id=str(grant.client_id),
                recorded_at__gte=grant.granted_at,
                recorded_at__lte=until,
            ).order_by("seq")[:500]
        )
        ledger.record(
            actor=actor_of(actor),
            action="access.break_glass.inspect",
            purpose="oversight",
            client_id=str(grant.client_id),
            resource_type="BreakGlassGrant",
            resource_id=str(grant.id),
        )
    return GrantRow(grant=grant, reads=_rows(entries))


# --- alerts -----------------------------------------------------------------------------------


def alerts(actor: User, *, status: str = AlertStatus.OPEN) -> list[Alert]:
    require(actor, Action.ALERT_MANAGE, purpose="oversight")
    qs = Alert.objects.filter(institution_id=actor.institution_id).select_related(
        "subject_user", "handled_by"
    )
    if status:
        qs = qs.filter(status=status)
    with transaction.atomic():
        rows = list(qs[:200])
        ledger.record(
            actor=actor_of(actor),
            action="audit.alerts.view",
            purpose="oversight",
            detail={"status": status, "results": len(rows)},
        )
    return rows
