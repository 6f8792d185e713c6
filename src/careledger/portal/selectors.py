"""What a signed-in client may read: their own card, and who accessed their record.

Every function takes the `PortalAccount` that `check_portal_user` returned for the signed-in
user and acts on that account's client only: nothing here accepts a client id, so no request
parameter can point a portal user at somebody else. (The staff policy in `careledger.access`
answers "may this member of staff act on this client through their care team"; a portal user
has no care team and no staff permission, and their only link to a client is the account.)

Each read is ledgered in the same transaction. The client's own portal reads are ledgered with
their client id too, but their access-log page leaves them out unless asked ("include my own
activity"), so reading the log does not fill it with "someone looked".
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import transaction

from careledger.access.enforce import actor_of
from careledger.accounts.models import Role, User
from careledger.clients.models import ClientStatus
from careledger.crypto import keyring
from careledger.institutions.models import CareTeamMembership, Department
from careledger.ledger import services as ledger
from careledger.ledger.models import LedgerEntry
from careledger.portal import vocabulary
from careledger.portal.models import PortalAccount

PURPOSE = "portal"
PAGE_SIZE = 20


class PortalDenied(PermissionDenied):
    pass


def check_portal_user(user: User) -> PortalAccount:
    """The signed-in user's portal account, or a ledgered refusal."""
    reason = ""
    account = None
    if not getattr(user, "is_authenticated", False):
        raise PortalDenied("not_signed_in")
    if user.role != Role.CLIENT:
        reason = "not_a_portal_user"
    elif not user.is_active:
        reason = "inactive_account"
    else:
        account = (
            PortalAccount.objects.select_related("client", "client__institution")
            .filter(user=user)
            .first()
        )
        if account is None:
            reason = "no_portal_account"
        elif account.client.status != ClientStatus.ACTIVE:
            reason = "client_inactive"
    if reason:
        with transaction.atomic():
            ledger.record(
                actor=actor_of(user),
                action="portal.access",
                outcome=ledger.Outcome.DENIED,
                purpose=PURPOSE,
                client_id=str(account.client_id) if account else "",
                detail={"reason": reason},
            )
        raise PortalDenied(reason)
    assert account is not None
    return account


def _record(account: PortalAccount, action: str, **fields: Any) -> None:
    """Ledger one of the account's own portal reads, about its client (inside the caller's
    transaction)."""
    ledger.record(
        actor=actor_of(account.user),
        action=action,
        purpose=PURPOSE,
        client_id=str(account.client_id),
        **fields,
    )


@dataclass(frozen=True)
class PortalProfile:
    name: str
    card_number: str
    membership_level: str
    institution_name: str
    enrolled_at: dt.datetime


@dataclass(frozen=True)
class AccessRow:
    seq: int
    time: dt.datetime
    is_mine: bool
    role: str
    staff_name: str
    department: str
    action: str
    action_code: str
    purpose: str
    outcome: str
    outcome_code: str


def my_profile(account: PortalAccount, *, recent: int = 5) -> tuple[PortalProfile, list[AccessRow]]:
    """The home page: the client's own card and name (their own: never masked) and the latest
    accesses by others, read and ledgered in one transaction."""
    client = account.client
    with transaction.atomic():
        card = client.cards.filter(status="active").first()
        keyring.preload([client, *([card] if card else [])], ["name", "number"])
        profile = PortalProfile(
            name=client.name,
            card_number=card.number if card else "",
            membership_level=card.get_level_display() if card else "",
            institution_name=client.institution.name,
            enrolled_at=client.created_at,
        )
        rows = _rows(account, list(_entries(account, include_mine=False)[:recent]))
        _record(
            account,
            "portal.profile.view",
            resource_type="Client",
            resource_id=str(client.id),
            detail={"recent_accesses": len(rows)},
        )
    return profile, rows


def _entries(account: PortalAccount, include_mine: bool) -> Any:
    entries = LedgerEntry.objects.filter(client_id=str(account.client_id)).order_by("-seq")
    if not include_mine:
        entries = entries.exclude(actor_id=str(account.user_id))
    return entries.only("seq", "leaf", "recorded_at", "action", "outcome", "actor_id")


def _uuids(values: set[str]) -> set[uuid.UUID]:
    ids = set()
    for value in values:
        try:
            ids.add(uuid.UUID(value))
        except ValueError:
            continue  # "system", "anonymous", ""
    return ids


def _staff(
    actor_ids: set[str], department_ids: set[str], with_names: bool
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """For the actors on a page: their current departments, the names of departments that
    entries recorded themselves, and (if the institution allows) display names. Three queries
    at most, whatever the page size."""
    users = _uuids(actor_ids)
    by_actor: dict[str, set[str]] = {}
    rows = CareTeamMembership.objects.filter(user_id__in=users).values_list(
        "user_id", "care_team__department__name"
    )
    for user_id, department in rows:
        by_actor.setdefault(str(user_id), set()).add(department)
    recorded = {
        str(pk): name
        for pk, name in Department.objects.filter(id__in=_uuids(department_ids)).values_list(
            "id", "name"
        )
    }
    names: dict[str, str] = {}
    if with_names and users:
        for user_id, display, username in User.objects.filter(id__in=users).values_list(
            "id", "display_name", "username"
        ):
            names[str(user_id)] = display or username
    current = {k: "、".join(sorted(v)) for k, v in by_actor.items()}
    return current, recorded, names


def _leaf_departments(leaf: dict[str, Any]) -> list[str]:
    value = leaf.get("department") or ""
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _rows(account: PortalAccount, entries: list[LedgerEntry]) -> list[AccessRow]:
    with_names = account.client.institution.portal_shows_staff_names
    leaves = [json.loads(entry.leaf) for entry in entries]
    department_ids = {d for leaf in leaves for d in _leaf_departments(leaf)}
    current, recorded, names = _staff({e.actor_id for e in entries}, department_ids, with_names)
    partners = {
        e.actor_id for e, leaf in zip(entries, leaves, strict=True) if leaf.get("role") == "partner"
    }
    if partners:  # a partner institution (sharing) is named whatever the setting: not a person
        from careledger.sharing.models import Partner

        rows_ = Partner.objects.filter(id__in=_uuids(partners)).values_list("id", "name")
        names.update({str(partner_id): name for partner_id, name in rows_})
    mine = str(account.user_id)
    rows = []
    for entry, leaf in zip(entries, leaves, strict=True):
        # The department the entry recorded at the time, else the actor's present one.
        at_the_time = [recorded[d] for d in _leaf_departments(leaf) if d in recorded]
        rows.append(
            AccessRow(
                seq=entry.seq,
                time=entry.recorded_at,
                is_mine=entry.actor_id == mine,
                role=vocabulary.role_label(leaf.get("role", "")),
                staff_name=names.get(entry.actor_id, ""),
                department="、".join(sorted(set(at_the_time))) or current.get(entry.actor_id, ""),
                action=vocabulary.action_label(entry.action, entry.outcome),
                action_code=entry.action,
                purpose=vocabulary.purpose_label(leaf.get("purpose", "")),
                outcome=vocabulary.outcome_label(entry.outcome),
                outcome_code=entry.outcome,
            )
        )
    return rows


def access_log(
    account: PortalAccount, *, page: int = 1, include_mine: bool = False
) -> tuple[Page, list[AccessRow]]:
    """Every ledger entry about this client, newest first, a page at a time; ledgered."""
    paginator = Paginator(_entries(account, include_mine), PAGE_SIZE)
    with transaction.atomic():
        page_obj = paginator.get_page(page)
        rows = _rows(account, list(page_obj.object_list))
        _record(
            account,
            "portal.access_log.view",
            detail={"page": page_obj.number, "include_mine": include_mine},
        )
    return page_obj, rows


class NotYourEntry(LookupError):
    """The ledger entry does not exist or is not about this client (the view answers 404)."""


def receipt(account: PortalAccount, seq: int) -> dict[str, Any]:
    """The inclusion receipt of one ledger entry about this client; a request for any other
    entry is refused (and the refusal ledgered) without saying whether the entry exists."""
    from careledger.ledger.receipts import receipt_for

    ours = LedgerEntry.objects.filter(seq=seq, client_id=str(account.client_id)).exists()
    if not ours:
        with transaction.atomic():
            _record(
                account,
                "portal.receipt.download",
                outcome=ledger.Outcome.DENIED,
                detail={"seq": seq, "reason": "not_this_client"},
            )
        raise NotYourEntry(seq)
    with transaction.atomic():
        data = receipt_for(seq)  # may sign a new tree head, in this transaction
        _record(
            account, "portal.receipt.download", detail={"seq": seq, "tree_size": data["tree_size"]}
        )
    return data
