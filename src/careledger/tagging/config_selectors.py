"""Reads for the institution admin's rule pages: tags, rule versions, counts and the preview.

Counts only, never a client (separation of duties): how many clients carry a tag, and for a
draft, how many would gain or lose it now, by sex and age band. Small cells (1–4 clients) are
shown as "<5" so that a count cannot single out a person in a small band. The preview runs the
real compiler and facts over the whole institution and is ledgered (an aggregate read of
everyone's facts, with the counts it showed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import polars as pl
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from careledger.access.enforce import actor_of, require
from careledger.accounts.models import User
from careledger.ledger import services as ledger
from careledger.tagging import evaluate, facts, permissions
from careledger.tagging.models import ClientTag, RuleStatus, Source, TagDefinition, TagRule
from careledger.tagging.rules import Fact
from careledger.tagging.services import PURPOSE, validate_expression

AGE_BANDS: list[tuple[int, int | None]] = [(0, 17), (18, 39), (40, 59), (60, 74), (75, None)]
SMALL_CELL = 5


@dataclass(frozen=True)
class TagRow:
    tag: TagDefinition
    published: TagRule | None
    draft: TagRule | None
    carried: int


@dataclass(frozen=True)
class BandRow:
    sex: str
    band: str
    gain: str
    lose: str


@dataclass(frozen=True)
class Preview:
    clients: int  # evaluated (everyone of the institution)
    would_carry: int
    carry_now: int
    gain: int
    lose: int
    bands: list[BandRow] = field(default_factory=list)


def _require(actor: User) -> None:
    require(actor, permissions.CONFIGURE, purpose=PURPOSE)


def tag_overview(actor: User) -> list[TagRow]:
    _require(actor)
    inst = actor.institution_id
    tags = list(TagDefinition.objects.filter(institution_id=inst))
    rules = TagRule.objects.filter(
        institution_id=inst, status__in=[RuleStatus.PUBLISHED, RuleStatus.DRAFT]
    )
    published = {r.tag_id: r for r in rules if r.status == RuleStatus.PUBLISHED}
    drafts = {r.tag_id: r for r in rules if r.status == RuleStatus.DRAFT}
    counts = dict(
        ClientTag.objects.filter(institution_id=inst, active=True)
        .values("tag_id")
        .annotate(n=Count("client_id", distinct=True))
        .values_list("tag_id", "n")
    )
    return [TagRow(t, published.get(t.id), drafts.get(t.id), counts.get(t.id, 0)) for t in tags]


def tag_detail(actor: User, tag_id: uuid.UUID) -> tuple[TagDefinition, list[TagRule]]:
    _require(actor)
    tag = TagDefinition.objects.get(pk=tag_id, institution_id=actor.institution_id)
    versions = list(
        TagRule.objects.filter(tag=tag)
        .select_related("author", "published_by")
        .order_by("-version")
    )
    return tag, versions


def _cell(n: int) -> str:
    return "" if n == 0 else f"<{SMALL_CELL}" if n < SMALL_CELL else str(n)


def preview(actor: User, *, tag_id: uuid.UUID, expression: str) -> Preview:
    """What publishing `expression` as the tag's rule would change now (counts only).
    RuleInvalid when it does not compile."""
    _require(actor)
    tag = TagDefinition.objects.get(pk=tag_id, institution_id=actor.institution_id)
    compiled = validate_expression(expression)
    inst = actor.institution_id
    columns = {f.column: f for f in compiled.facts}
    for needed in ("sex", "age"):
        columns.setdefault(needed, Fact(needed))
    frame = facts.build_facts(institution_id=inst, facts=columns.values(), now=timezone.now())
    key = str(tag.id)
    fires = evaluate.fired(frame, {key: compiled})
    carried_ids = [
        str(c)
        for c in ClientTag.objects.filter(
            institution_id=inst, tag=tag, source=Source.RULE, active=True
        ).values_list("client_id", flat=True)
    ]
    carried = pl.DataFrame(
        {"client_id": carried_ids, "tag": [key] * len(carried_ids)},
        schema={"client_id": pl.Utf8, "tag": pl.Utf8},
    )
    changes = evaluate.diff(fires, carried)
    gains = evaluate.counts_by(frame, changes.gains, AGE_BANDS)
    losses = evaluate.counts_by(frame, changes.losses, AGE_BANDS)
    bands = []
    for sex in ("F", "M"):
        for low, _high in AGE_BANDS:
            label = evaluate.band_of(low, AGE_BANDS)
            g, lo = gains.get((sex, label), 0), losses.get((sex, label), 0)
            if g or lo:
                bands.append(BandRow(sex, label, _cell(g), _cell(lo)))
    result = Preview(
        clients=frame.height,
        would_carry=fires.height,
        carry_now=carried.height,
        gain=changes.gains.height,
        lose=changes.losses.height,
        bands=bands,
    )
    with transaction.atomic():
        ledger.record(
            actor=actor_of(actor),
            action=permissions.EV_PREVIEW,
            purpose=PURPOSE,
            resource_type="TagDefinition",
            resource_id=str(tag.id),
            detail={
                "clients": result.clients,
                "would_carry": result.would_carry,
                "gain": result.gain,
                "lose": result.lose,
            },
        )
    return result
