"""Shared by the advice selectors and services: the catalogue as the assembly sees it, the
client's sheet assembled now, and how keys and citations read.

Internal (no access check): callers have asked the policy first.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone, translation

from careledger.access import masking
from careledger.access.policy import Decision
from careledger.advice import assembly
from careledger.advice import keys as K
from careledger.advice.catalogue_services import ensure_loaded
from careledger.advice.gather import ClientKeys, client_keys, tag_names
from careledger.advice.models import AdviceItem, ItemStatus
from careledger.clients.models import Client
from careledger.clients.selectors import age_on

PURPOSE = "care"


@dataclass(frozen=True)
class ClientHeader:
    id: uuid.UUID
    name: str
    sex: str
    age: int
    masked: bool


def header(client: Client, decision: Decision) -> ClientHeader:
    masked = decision.mask_identifiers
    return ClientHeader(
        id=client.id,
        name=masking.mask_name(client.name) if masked else client.name,
        sex=client.sex,
        age=age_on(client.birth_date, timezone.localdate()),
        masked=masked,
    )


def english() -> bool:
    return (translation.get_language() or "zh-hans").startswith("en")


def citation_text(citations: list[dict[str, str]]) -> str:
    parts = []
    for c in citations:
        bits = [f"《{c.get('guideline', '')}》", c.get("edition", ""), c.get("section", "")]
        parts.append("，".join(b for b in bits if b and b != "《》"))
    return "；".join(parts)


def entry(row: AdviceItem) -> assembly.CatalogueItem:
    """A stored version as the assembly sees it (English wording when asked for and written)."""
    en = english()
    return assembly.CatalogueItem(
        id=str(row.id),
        code=row.code,
        version=row.version,
        domain=row.domain,
        title=row.title_en if en and row.title_en else row.title,
        body=row.body_en if en and row.body_en else row.body,
        priority=row.priority,
        applies=tuple(tuple(g) for g in row.applies),
        replaces=tuple(row.replaces),
        needs_clinician=row.needs_clinician,
        citation=citation_text(row.citations),
    )


def current_catalogue(institution_id: uuid.UUID) -> list[AdviceItem]:
    ensure_loaded(institution_id)
    return list(AdviceItem.objects.filter(institution_id=institution_id, status=ItemStatus.ACTIVE))


def labeller(
    institution_id: uuid.UUID, details: dict[str, str] | None = None
) -> Callable[[str], str]:
    """Names keys for the reasons, in the page's language: the institution's own tag names
    first, then the vocabulary; a constitution judged only 倾向是 says so."""
    vocabulary = K.vocabulary()
    lang = "en" if english() else "zh"
    names = {
        code: pair[1 if lang == "en" else 0] for code, pair in tag_names(institution_id).items()
    }
    details = details or {}

    def label(key: str) -> str:
        text = vocabulary.label(key, lang, names)
        if details.get(key) == "tendency":
            text += " (tendency)" if lang == "en" else "（倾向是）"
        return text

    return label


@dataclass(frozen=True)
class Assembled:
    sheet: assembly.Sheet
    keys: ClientKeys
    rows: dict[str, AdviceItem]  # version id -> row

    @property
    def fingerprint(self) -> str:
        """What the issuer saw: a digest of the item versions on the sheet, posted back when
        issuing so a sheet that changed in between is not issued unseen."""
        ids = ",".join(sorted(i.item.id for i in self.sheet.items))
        return hashlib.sha256(ids.encode()).hexdigest()[:32]


def assemble_for(client: Client) -> Assembled:
    rows = {str(r.id): r for r in current_catalogue(client.institution_id)}
    found = client_keys(client.id, client.institution_id)
    sheet = assembly.assemble(
        [entry(r) for r in rows.values()],
        found.keys,
        label=labeller(client.institution_id, found.details),
        joiner=" + ",
    )
    return Assembled(sheet, found, rows)
