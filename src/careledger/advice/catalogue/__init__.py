"""The built-in advice catalogue as data (pure, no Django): `builtin.toml` (the items),
`sources.toml` (the guidelines they cite) and `vocabulary.toml` (the keys they answer).

`builtin_items()` reads and validates them once: every item has a unique stable code, a known
domain, Chinese title and body, at least one citation of a known source with its section, and
applicability keys of the three families. `content_digest(item)` fingerprints what an item says,
so a reload can tell an untouched built-in item (safe to refresh) from one an institution edited
(never overwritten).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from careledger.advice.assembly import DOMAINS
from careledger.advice.matching import Applicability, normalise

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Citation:
    guideline: str
    edition: str
    section: str

    def text(self) -> str:
        return "，".join(p for p in (f"《{self.guideline}》", self.edition, self.section) if p)


@dataclass(frozen=True)
class BuiltinItem:
    code: str
    domain: str
    priority: int
    title: str
    body: str
    title_en: str
    body_en: str
    citations: tuple[Citation, ...]
    applies: Applicability
    replaces: tuple[str, ...]
    needs_clinician: bool


class CatalogueError(ValueError):
    pass


def _load(name: str) -> dict:  # type: ignore[type-arg]
    return tomllib.loads((HERE / name).read_text("utf-8"))


@cache
def sources() -> dict[str, tuple[str, str]]:
    return {k: (v["guideline"], v["edition"]) for k, v in _load("sources.toml").items()}


def _item(raw: dict, known_sources: dict[str, tuple[str, str]]) -> BuiltinItem:  # type: ignore[type-arg]
    code = raw.get("code", "")
    if raw.get("domain") not in DOMAINS:
        raise CatalogueError(f"{code}: domain {raw.get('domain')!r} is not one of {DOMAINS}")
    if not raw.get("title") or not raw.get("body"):
        raise CatalogueError(f"{code}: title and body are required")
    cites = []
    for ref, section in raw.get("cite", []):
        if ref not in known_sources:
            raise CatalogueError(f"{code}: unknown source {ref!r}")
        if not section:
            raise CatalogueError(f"{code}: a citation needs its section")
        cites.append(Citation(*known_sources[ref], section))
    if not cites:
        raise CatalogueError(f"{code}: every item cites its source")
    return BuiltinItem(
        code=code,
        domain=raw["domain"],
        priority=int(raw.get("priority", 50)),
        title=raw["title"],
        body=raw["body"],
        title_en=raw.get("title_en", ""),
        body_en=raw.get("body_en", ""),
        citations=tuple(cites),
        applies=normalise(raw.get("when", [])),
        replaces=tuple(raw.get("replaces", [])),
        needs_clinician=bool(raw.get("needs_clinician", False)),
    )


@cache
def builtin_items() -> tuple[BuiltinItem, ...]:
    known = sources()
    items = tuple(_item(raw, known) for raw in _load("builtin.toml")["item"])
    codes = [i.code for i in items]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise CatalogueError(f"duplicate codes: {duplicates}")
    for item in items:
        stray = set(item.replaces) - set(codes)
        if stray:
            raise CatalogueError(f"{item.code}: replaces unknown items {sorted(stray)}")
    return items


def content_digest(
    *,
    domain: str,
    priority: int,
    title: str,
    body: str,
    title_en: str,
    body_en: str,
    citations: list[dict[str, str]],
    applies: list[list[str]],
    replaces: list[str],
    needs_clinician: bool,
) -> str:
    """SHA-256 over what an item says (canonical JSON), the same for a built-in item and the
    stored row it became."""
    payload = {
        "domain": domain,
        "priority": priority,
        "title": title,
        "body": body,
        "title_en": title_en,
        "body_en": body_en,
        "citations": citations,
        "applies": applies,
        "replaces": replaces,
        "needs_clinician": needs_clinician,
    }
    raw = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def as_fields(item: BuiltinItem) -> dict[str, object]:
    """The item as the stored row's fields (lists and dicts, JSON-ready)."""
    return {
        "domain": item.domain,
        "priority": item.priority,
        "title": item.title,
        "body": item.body,
        "title_en": item.title_en,
        "body_en": item.body_en,
        "citations": [asdict(c) for c in item.citations],
        "applies": [list(g) for g in item.applies],
        "replaces": list(item.replaces),
        "needs_clinician": item.needs_clinician,
    }
