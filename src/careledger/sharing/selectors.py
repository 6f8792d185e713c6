"""Reads of a client's share grants and of who fetched under them: authorised and ledgered.

The staff page (`client_shares`, `share.view`, care team) and the portal page (`my_shares`, the
signed-in client's own) show the same thing: each grant with its partner, categories, window,
state in words (active, pending, expired, used up, consent withdrawn, revoked), uses, and every
fetch under it (when, what kind, how many resources, the ledger entry it is). A fixed number of
queries: the grants with their partners, the fetches, the consents in force, the ledger append.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.ledger import services as ledger
from careledger.sharing.categories import CATEGORIES
from careledger.sharing.models import GrantStatus, Partner, ShareFetch, ShareGrant

PURPOSE = "share"
FETCHES_SHOWN = 50

CATEGORY_LABELS = {
    "demographics": _("Basic information (name, sex, birth date)"),
    "results": _("Check-up results and reports"),
    "conditions": _("Past history and conditions"),
    "questionnaires": _("Questionnaire answers"),
    "risk": _("Risk assessments"),
    "careplans": _("Care plans"),
    "consents": _("Consent records"),
}
STATE_LABELS = {
    "active": _("Active"),
    "pending": _("Waiting for your code"),
    "expired": _("Expired"),
    "used_up": _("All uses spent"),
    "no_consent": _("Consent withdrawn"),
    "revoked": _("Revoked"),
}
INTERACTION_LABELS = {
    "bundle": _("Signed share package"),
    "read": _("Read one item"),
    "search": _("Search"),
    "everything": _("Whole record"),
}


@dataclass(frozen=True)
class FetchRow:
    seq: int
    at: dt.datetime
    partner: str
    interaction: str
    resources: int


@dataclass(frozen=True)
class GrantRow:
    id: uuid.UUID
    partner: str
    categories: tuple[str, ...]
    data_from: dt.date | None
    data_to: dt.date | None
    created_at: dt.datetime
    expires_at: dt.datetime
    uses: int
    max_uses: int
    state: str
    state_label: str
    channel: str
    fetches: tuple[FetchRow, ...]

    @property
    def can_revoke(self) -> bool:
        return self.state != "revoked"


@dataclass(frozen=True)
class Shares:
    client_id: uuid.UUID
    grants: tuple[GrantRow, ...]
    partners: tuple[Partner, ...]  # the institution's active partners
    consented: frozenset[uuid.UUID]  # partners the client consents to share with now


def state_of(grant: ShareGrant, consented: frozenset[uuid.UUID], now: dt.datetime) -> str:
    if grant.status == GrantStatus.REVOKED:
        return "revoked"
    if grant.status == GrantStatus.PENDING:
        return "pending"
    if grant.expires_at <= now:
        return "expired"
    if grant.uses >= grant.max_uses:
        return "used_up"
    if grant.partner_id not in consented:
        return "no_consent"
    return "active"


def _shares(client: Client) -> Shares:
    from careledger.consent.selectors import consented_partners

    now = timezone.now()
    grants = list(ShareGrant.objects.filter(client=client).select_related("partner"))
    fetches: dict[uuid.UUID, list[FetchRow]] = {}
    names = {g.partner_id: g.partner.name for g in grants}
    for f in ShareFetch.objects.filter(client=client).order_by("-fetched_at")[:FETCHES_SHOWN]:
        fetches.setdefault(f.grant_id, []).append(
            FetchRow(f.seq, f.fetched_at, names.get(f.partner_id, ""), f.interaction, f.resources)
        )
    consented = consented_partners(client_id=client.id)
    rows = []
    for g in grants:
        state = state_of(g, consented, now)
        rows.append(
            GrantRow(
                id=g.id,
                partner=g.partner.name,
                categories=tuple(
                    str(CATEGORY_LABELS.get(c, c)) for c in g.categories if c in CATEGORIES
                ),
                data_from=g.data_from,
                data_to=g.data_to,
                created_at=g.created_at,
                expires_at=g.expires_at,
                uses=g.uses,
                max_uses=g.max_uses,
                state=state,
                state_label=str(STATE_LABELS[state]),
                channel=g.channel,
                fetches=tuple(fetches.get(g.id, ())),
            )
        )
    partners = tuple(Partner.objects.filter(institution_id=client.institution_id, is_active=True))
    return Shares(client.id, tuple(rows), partners, frozenset(consented))


def client_shares(actor: User, client_id: uuid.UUID) -> Shares:
    client = Client.objects.get(pk=client_id)
    decision = require(actor, Action.SHARE_VIEW, client_scope(client), purpose=PURPOSE)
    with transaction.atomic():
        shares = _shares(client)
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.SHARE_VIEW),
            purpose=decision.purpose(PURPOSE),
            client_id=str(client.id),
            resource_type="ShareGrant",
            detail={"grants": len(shares.grants)},
        )
    return shares


def my_shares(account: Any) -> Shares:
    """The signed-in client's own grants (portal); ledgered as their own read."""
    with transaction.atomic():
        shares = _shares(account.client)
        ledger.record(
            actor=actor_of(account.user),
            action="portal.shares.view",
            purpose="portal",
            client_id=str(account.client_id),
            detail={"grants": len(shares.grants)},
        )
    return shares


def pending_grant(account: Any, grant_id: uuid.UUID) -> ShareGrant | None:
    """One of the client's own pending grants, for the code page (none of anyone else's)."""
    return (
        ShareGrant.objects.select_related("partner")
        .filter(pk=grant_id, client_id=account.client_id, status=GrantStatus.PENDING)
        .first()
    )
