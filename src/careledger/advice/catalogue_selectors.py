"""Reads of an institution's advice catalogue for its admin (`advice.manage`): the list with
filters and one item with every version. Configuration only — no client data, so no ledger
event per read (writes are ledgered by `catalogue_services`)."""

from __future__ import annotations

from dataclasses import dataclass

from careledger.accounts.models import User
from careledger.advice import keys as K
from careledger.advice.catalogue_services import check_can_manage, ensure_loaded
from careledger.advice.matching import format_text, keys_of
from careledger.advice.models import AdviceItem, ItemStatus
from careledger.advice.sheets import citation_text

STATUSES = ("active", "retired", "all")


@dataclass(frozen=True)
class KeyView:
    key: str
    label: str
    known: bool


@dataclass(frozen=True)
class ItemView:
    row: AdviceItem
    keys: list[KeyView]
    applies_text: str
    citation: str

    @property
    def general(self) -> bool:
        return not self.row.applies


@dataclass(frozen=True)
class ItemDetail:
    current: ItemView
    versions: list[AdviceItem]  # newest first, the current one included


def _view(row: AdviceItem) -> ItemView:
    vocabulary = K.vocabulary()
    applies = tuple(tuple(g) for g in row.applies)
    return ItemView(
        row=row,
        keys=[
            KeyView(k, vocabulary.label(k), vocabulary.known(k)) for k in sorted(keys_of(applies))
        ],
        applies_text=format_text(applies),
        citation=citation_text(row.citations),
    )


def catalogue_items(
    actor: User, *, domain: str = "", key: str = "", status: str = "active", q: str = ""
) -> list[ItemView]:
    """The current version of each item, filtered: domain; a key the item answers (exact key,
    or part of one: "bp_grade" finds every blood-pressure item; "general" the general items);
    status active / retired / all; words of the title or body."""
    check_can_manage(actor=actor)
    ensure_loaded(actor.institution_id)
    rows = AdviceItem.objects.filter(institution_id=actor.institution_id).exclude(
        status=ItemStatus.SUPERSEDED
    )
    if status in ("active", "retired"):
        rows = rows.filter(status=status)
    if domain:
        rows = rows.filter(domain=domain)
    views = [_view(r) for r in rows.select_related("created_by")]
    wanted = K.normalise(key)
    if wanted == "general":
        views = [v for v in views if v.general]
    elif wanted:
        views = [v for v in views if any(wanted in kv.key for kv in v.keys)]
    words = q.strip()
    if words:
        views = [v for v in views if words in v.row.title or words in v.row.body]
    return views


def item_detail(actor: User, code: str) -> ItemDetail:
    """`AdviceItem.DoesNotExist` when the actor's institution has no such item."""
    check_can_manage(actor=actor)
    ensure_loaded(actor.institution_id)
    versions = list(
        AdviceItem.objects.filter(institution_id=actor.institution_id, code=code)
        .select_related("created_by", "retired_by")
        .order_by("-version")
    )
    current = next((v for v in versions if v.status != ItemStatus.SUPERSEDED), None)
    if current is None:
        raise AdviceItem.DoesNotExist
    return ItemDetail(_view(current), versions)


def vocabulary_keys() -> list[KeyView]:
    """Every key the vocabulary names (the editor's reference list)."""
    vocabulary = K.vocabulary()
    return [KeyView(k, vocabulary.label(k), True) for k in vocabulary.all_keys()]
