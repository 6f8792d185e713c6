"""Every read of a client's tags: authorised by the policy, ledgered in the same transaction.

* `client_tags` — the chips (a tag shows once, whether a rule or a person applied it, or both).
* `tag_history` — every change, newest first: applied/removed, when, why (the rule version and
  the facts that fired it, or the person and their reason — sealed text, opened here).
* `filter_clients` — the client list narrowed to one tag, within the actor's care teams (the
  same rows, masking and ledger events as the plain list).
Tags are not identifiers, so nurses see them as the rest of the care team does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.utils import translation

from careledger.access.enforce import actor_of, require
from careledger.accounts.models import User
from careledger.clients import selectors as client_selectors
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.crypto import keyring
from careledger.ledger import services as ledger
from careledger.tagging import permissions
from careledger.tagging.models import ClientTag, TagDefinition, TagEvent

PURPOSE = "care"


@dataclass(frozen=True)
class Chip:
    tag_id: uuid.UUID
    code: str
    name: str
    colour: str
    category: str
    sources: tuple[str, ...]  # "rule", "manual"
    since: dt.datetime
    manual: bool = False


@dataclass(frozen=True)
class ClientTags:
    client_id: uuid.UUID
    chips: list[Chip]
    emergency: bool


@dataclass(frozen=True)
class HistoryRow:
    at: dt.datetime
    tag_code: str
    tag_name: str
    colour: str
    op: str
    source: str
    why: str
    trigger: str
    rule_version: int | None
    rule_expression: str
    by: str
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)


def _lang() -> str:
    return translation.get_language() or "zh-hans"


def chips_of(rows: list[ClientTag]) -> list[Chip]:
    by_tag: dict[uuid.UUID, list[ClientTag]] = {}
    for row in rows:
        by_tag.setdefault(row.tag_id, []).append(row)
    chips = []
    for carried in by_tag.values():
        tag = carried[0].tag
        sources = tuple(sorted(r.source for r in carried))
        chips.append(
            Chip(
                tag_id=tag.id,
                code=tag.code,
                name=tag.name(_lang()),
                colour=tag.colour,
                category=tag.category,
                sources=sources,
                since=min(r.applied_at for r in carried),
                manual="manual" in sources,
            )
        )
    return sorted(chips, key=lambda c: (c.category, c.code))


def client_tags(actor: User, client_id: uuid.UUID) -> ClientTags:
    client = Client.objects.get(pk=client_id)
    decision = require(actor, permissions.VIEW, client_scope(client), purpose=PURPOSE)
    with transaction.atomic():
        rows = list(ClientTag.objects.filter(client=client, active=True).select_related("tag"))
        chips = chips_of(rows)
        ledger.record(
            actor=actor_of(actor),
            action=permissions.EV_VIEW,
            purpose=decision.purpose(PURPOSE),
            client_id=str(client.id),
            detail={"tags": len(chips)},
        )
    return ClientTags(client_id=client.id, chips=chips, emergency=decision.emergency)


def tag_history(actor: User, client_id: uuid.UUID) -> list[HistoryRow]:
    client = Client.objects.get(pk=client_id)
    decision = require(actor, permissions.VIEW, client_scope(client), purpose=PURPOSE)
    with transaction.atomic():
        events = list(TagEvent.objects.filter(client=client).select_related("tag", "rule", "actor"))
        keyring.preload(events, ["reason"])
        ledger.record(
            actor=actor_of(actor),
            action=permissions.EV_HISTORY,
            purpose=decision.purpose(PURPOSE),
            client_id=str(client.id),
            detail={"events": len(events)},
        )
    lang = _lang()
    return [
        HistoryRow(
            at=e.at,
            tag_code=e.tag.code,
            tag_name=e.tag.name(lang),
            colour=e.tag.colour,
            op=e.op,
            source=e.source,
            why=e.why,
            trigger=e.trigger,
            rule_version=e.rule.version if e.rule else None,
            rule_expression=e.rule.expression if e.rule else "",
            by=e.actor.shown_name if e.actor else "",
            reason=e.reason,
            facts=e.facts or {},
        )
        for e in events
    ]


def tag_choices(actor: User) -> list[TagDefinition]:
    """The institution's active tags (configuration: names and codes, no client data)."""
    return list(TagDefinition.objects.filter(institution_id=actor.institution_id, is_active=True))


def filter_clients(
    actor: User, *, tag_code: str, page: int = 1
) -> tuple[Page, list[client_selectors.ClientSummary], TagDefinition | None]:
    """The actor's client list narrowed to the clients carrying one tag (ledgered as the list
    is, with the tag's id in each event)."""
    decision = require(actor, permissions.LIST, purpose=PURPOSE)
    tag = TagDefinition.objects.filter(institution_id=actor.institution_id, code=tag_code).first()
    carrying = ClientTag.objects.filter(
        institution_id=actor.institution_id, tag=tag, active=True
    ).values("client_id")
    found = client_selectors.visible_clients(actor).filter(pk__in=carrying)
    if tag is None:
        found = found.none()
    paginator = Paginator(found, client_selectors.PAGE_SIZE)
    page_obj = paginator.get_page(page)
    with transaction.atomic():
        clients = list(page_obj.object_list)
        rows = client_selectors._summarise(clients, decision.mask_identifiers)
        if clients:
            ledger.record_many(
                actor=actor_of(actor),
                action=str(permissions.LIST),
                client_ids=[str(c.id) for c in clients],
                purpose=PURPOSE,
                details=[{"page": page_obj.number, "tag": str(tag.id) if tag else ""}]
                * len(clients),
            )
    return page_obj, rows, tag


def chips_for_clients(actor: User, client_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Chip]]:
    """Chips of clients the caller has just read through an authorised, ledgered list (the
    list's own events cover them); only clients of the actor's care teams are answered."""
    require(actor, permissions.LIST, purpose=PURPOSE)
    visible = client_selectors.visible_clients(actor).filter(pk__in=client_ids).values("pk")
    rows = list(ClientTag.objects.filter(client_id__in=visible, active=True).select_related("tag"))
    out: dict[uuid.UUID, list[ClientTag]] = {}
    for row in rows:
        out.setdefault(row.client_id, []).append(row)
    return {client: chips_of(carried) for client, carried in out.items()}
