"""Printing a client's health report (打印健康报告): authorise, gather, seal, draw, record.

`check_print` validates the purpose and asks the policy (`report.print`: the care team's
health manager, doctor and nurse; the nurse's copy carries masked identifiers because the
client selector masks them for her role); a refusal is ledgered by `access.enforce.require`.
`do_print` gathers the content through the owning selectors (each read ledgered there), adds the
print block the watermark repeats (viewer, role, time, purpose), signs the document's SHA-256
with the institution's report key (Ed25519, custody in `careledger.crypto.signing`), draws the
PDF, and in one transaction stores the `ReportPrint` row and appends `report.print` to the
ledger with the hash, the key id and the row's digest. The PDF is returned only after that
commits: a print that is not in the ledger never leaves.
"""

from __future__ import annotations

import re
import threading
import uuid
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from careledger.access.enforce import actor_of, require
from careledger.access.policy import Decision
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.clients.validation import ValidationFailed
from careledger.crypto import signing
from careledger.ledger import services as ledger
from careledger.reports import document, fonts, render
from careledger.reports.gather import gather, role_label
from careledger.reports.models import Purpose, ReportPrint
from careledger.reports.seal import make_seal

KEY_PURPOSE = "report-seal"  # the signing key's purpose (its own key, published on its own)
PRINT = Action.REPORT_PRINT
PREVIEW_EVENT = "report.preview"
log = structlog.get_logger("careledger.reports")
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@dataclass(frozen=True)
class PrintedReport:
    print_id: uuid.UUID
    pdf: bytes
    sha256: str
    pages: int
    filename: str


def font() -> fonts.FontChoice:
    """The configured face; with its cut to the common characters once that is built (the
    first call starts building it in the background, so no print waits for it)."""
    chosen = fonts.choose(settings.CARELEDGER_REPORT_FONT, settings.CARELEDGER_REPORT_FONT_FACE)
    cache = Path(settings.CARELEDGER_VAR_DIR) / "cache" / "fonts"
    ready = fonts.with_common_cut(chosen, cache)
    if not ready.common_path and settings.CARELEDGER_REPORT_FONT_CUT:
        _start_cut(chosen, cache)
    return ready


_CUTTING: set[str] = set()
_CUT_LOCK = threading.Lock()


def _start_cut(chosen: fonts.FontChoice, cache: Path) -> None:
    key = str(fonts.cut_path(chosen, cache))
    with _CUT_LOCK:
        if key in _CUTTING:
            return
        _CUTTING.add(key)

    def build() -> None:
        try:
            fonts.build_common_cut(chosen, cache)
        except Exception:  # a cache only: the full face keeps working
            log.warning("reports.font_cut_failed", exc_info=True)

    threading.Thread(target=build, name="report-font-cut", daemon=True).start()


def check_purpose(purpose: str) -> str:
    if purpose not in Purpose.values:
        raise ValidationFailed(
            {"purpose": [f"choose one of {', '.join(Purpose.values)} (a purpose is required)"]}
        )
    return purpose


def check_print(*, actor: User, client_id: uuid.UUID, purpose: str) -> Decision:
    """Authorise first (an outsider learns nothing, not even that the purpose was wrong), then
    insist on a purpose from the vocabulary."""
    client = Client.objects.get(pk=client_id)
    valid = purpose in Purpose.values
    decision = require(actor, PRINT, client_scope(client), purpose=purpose if valid else "")
    check_purpose(purpose)
    return decision


def _print_block(actor: User, print_id: uuid.UUID, purpose: str, now) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    local = now.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).replace(microsecond=0)
    at = local.strftime("%Y-%m-%d %H:%M")
    viewer, role, why = actor.shown_name, role_label(actor.role), str(Purpose(purpose).label)
    return {
        "id": print_id.hex,
        "at": at,
        "at_iso": local.isoformat(),
        "viewer": viewer,
        "role": role,
        "purpose": why,
        "purpose_code": purpose,
        "watermark": f"{viewer} · {role} · {at} · {why}",
    }


def do_print(*, actor: User, client_id: uuid.UUID, purpose: str) -> PrintedReport:
    decision = check_print(actor=actor, client_id=client_id, purpose=purpose)
    chosen_font = font()  # FontMissing before anything is read or ledgered
    doc = gather(actor, client_id, purpose=purpose)
    print_id, now = uuid.uuid4(), timezone.now()
    doc["print"] = _print_block(actor, print_id, purpose, now)
    canonical = document.canonical_json(doc)
    signer, _created = signing.current_signer(KEY_PURPOSE)
    seal = make_seal(
        canonical,
        print_id=print_id.hex,
        key_id=signer.key_id,
        sign=signer.sign,
        renderer=render.RENDERER,
    )
    pdf = render.render(doc, canonical, seal, chosen_font)
    pages = len(_PAGE.findall(pdf))
    with transaction.atomic():
        row = ReportPrint.objects.create(
            id=print_id,
            institution_id=actor.institution_id,
            client_id=client_id,
            printed_by=actor,
            role=actor.role,
            purpose=purpose,
            sha256=seal.digest.hex(),
            key_id=seal.key_id,
            renderer=render.RENDERER,
            pages=pages,
            size_bytes=len(pdf),
            created_at=now,
        )
        ledger.record(
            actor=actor_of(actor),
            action=str(PRINT),
            purpose=decision.purpose(purpose),
            client_id=str(client_id),
            resource_type="ReportPrint",
            resource_id=str(row.id),
            detail={"sha256": row.sha256, "key_id": row.key_id[:16], "pages": pages},
            sealed=[row],
        )
    return PrintedReport(
        print_id=print_id,
        pdf=pdf,
        sha256=row.sha256,
        pages=pages,
        filename=f"report-{print_id.hex[:12]}.pdf",
    )
