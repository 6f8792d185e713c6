"""The personalised advice sheet: which catalogue items a client's keys call for, and why
(pure, no Django; the Django side gathers the keys and the catalogue and stores what was shown).

`assemble(items, client_keys, label=...)`:

* an item with applicability applies when any of its key groups is fully among the client's
  keys; it appears **once**, however many groups matched, with one reason per matched group
  ("血压分级 1级高血压", "高血压 + 超重");
* specific items are grouped by domain (fixed order: follow-up first, then diet, exercise,
  lifestyle, mental health, TCM) and ordered by priority (smaller first), then code;
* general items (no applicability) form the general section, always present — it is the whole
  sheet when nothing specific applies;
* a matched item may name items it `replaces` (the hypertension salt advice replaces the general
  salt advice; "chronic disease: do not drink" replaces "drink less"), which are then left out
  and listed in `Sheet.replaced`; items are considered in sheet order, and an item already
  replaced replaces nothing;
* items flagged `needs_clinician` (urgent referral wording) are also listed apart, so a page
  can put them first and the person issuing the sheet sees them;
* one item per code: if the catalogue passed holds several versions of a code, the highest
  version wins (callers pass current versions only; this keeps the function total).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from careledger.advice.matching import Applicability, Group, is_general, satisfied

DOMAINS = ("follow_up", "diet", "exercise", "lifestyle", "mental", "tcm")


@dataclass(frozen=True)
class CatalogueItem:
    """One version of one advice item as the assembly sees it."""

    id: str  # the stored version's id (opaque here)
    code: str
    version: int
    domain: str
    title: str
    body: str
    priority: int = 50
    applies: Applicability = ()
    replaces: tuple[str, ...] = ()
    needs_clinician: bool = False
    citation: str = ""


@dataclass(frozen=True)
class SheetItem:
    item: CatalogueItem
    groups: tuple[Group, ...]  # the key groups that matched (empty for general advice)
    reasons: tuple[str, ...]  # each matched group in words

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(sorted({k for g in self.groups for k in g}))


@dataclass(frozen=True)
class Section:
    domain: str
    items: tuple[SheetItem, ...]


@dataclass(frozen=True)
class Sheet:
    sections: tuple[Section, ...]  # specific advice by domain, in DOMAINS order
    general: tuple[SheetItem, ...]
    client_keys: frozenset[str]
    replaced: dict[str, str] = field(default_factory=dict)  # general code -> replacing code

    @property
    def specific(self) -> tuple[SheetItem, ...]:
        return tuple(i for s in self.sections for i in s.items)

    @property
    def items(self) -> tuple[SheetItem, ...]:
        return self.specific + self.general

    @property
    def needs_clinician(self) -> tuple[SheetItem, ...]:
        return tuple(i for i in self.items if i.item.needs_clinician)

    @property
    def matched_keys(self) -> frozenset[str]:
        """The client's keys some item answered (what an issued sheet records as used)."""
        return frozenset(k for i in self.specific for k in i.keys)

    @property
    def unanswered_keys(self) -> frozenset[str]:
        """The client's keys no item answered (a gap in the catalogue, or a harmless level)."""
        return self.client_keys - self.matched_keys


def _order(item: CatalogueItem) -> tuple[int, int, str]:
    domain = DOMAINS.index(item.domain) if item.domain in DOMAINS else len(DOMAINS)
    return domain, item.priority, item.code


def latest_per_code(items: Iterable[CatalogueItem]) -> list[CatalogueItem]:
    best: dict[str, CatalogueItem] = {}
    for item in items:
        if item.code not in best or item.version > best[item.code].version:
            best[item.code] = item
    return list(best.values())


def assemble(
    items: Iterable[CatalogueItem],
    client_keys: Iterable[str],
    *,
    label: Callable[[str], str] = str,
    joiner: str = " + ",
) -> Sheet:
    """The sheet for a client with `client_keys` from the catalogue `items` (current versions).
    `label` names a key for the reasons; `joiner` joins the keys of one group."""
    have = frozenset(client_keys)
    catalogue = latest_per_code(items)
    specific: list[SheetItem] = []
    for item in catalogue:
        if is_general(item.applies):
            continue
        groups = satisfied(item.applies, have)
        if groups:
            reasons = tuple(joiner.join(label(k) for k in g) for g in groups)
            specific.append(SheetItem(item, groups, reasons))
    replaced: dict[str, str] = {}
    for entry in sorted(specific, key=_key):
        if entry.item.code in replaced:  # a replaced item replaces nothing itself
            continue
        for code in entry.item.replaces:
            if code != entry.item.code:
                replaced.setdefault(code, entry.item.code)
    specific = [e for e in specific if e.item.code not in replaced]
    general = [
        SheetItem(item, (), ())
        for item in catalogue
        if is_general(item.applies) and item.code not in replaced
    ]
    sections = []
    for domain in [*DOMAINS, *sorted({e.item.domain for e in specific} - set(DOMAINS))]:
        in_domain = sorted((e for e in specific if e.item.domain == domain), key=_key)
        if in_domain:
            sections.append(Section(domain, tuple(in_domain)))
    return Sheet(
        sections=tuple(sections),
        general=tuple(sorted(general, key=_key)),
        client_keys=have,
        replaced=replaced,
    )


def _key(entry: SheetItem) -> tuple[int, int, str]:
    return _order(entry.item)
