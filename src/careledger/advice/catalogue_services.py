"""Every write to an institution's advice catalogue: load the built-in items, add, edit (a new
version), retire and reinstate.

Who: the institution admin (the policy's `advice.manage`). Clinicians read the catalogue only
through a client's sheet. The admin never sees
client data here: items are configuration.

Every write runs in one transaction with its ledger event, which row-seals the rows it wrote
(the new version and the superseded one), so `ledger verify` catches a wording changed behind
the application's back.

`do_ensure_builtin` is idempotent: an item missing from the institution is created from the
built-in file; an item still exactly as the built-in file last said (never edited, not retired)
is refreshed to a new version when the file changed; anything the institution edited, added or
retired is left alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.advice import catalogue
from careledger.advice.assembly import DOMAINS
from careledger.advice.matching import InvalidApplicability, normalise, parse_text
from careledger.advice.models import AdviceItem, ItemStatus, Origin
from careledger.clients.validation import ValidationFailed
from careledger.ledger import services as ledger

MANAGE = Action.ADVICE_MANAGE
PURPOSE = "configuration"
CONTENT_FIELDS = (
    "domain",
    "priority",
    "title",
    "body",
    "title_en",
    "body_en",
    "citations",
    "applies",
    "replaces",
    "needs_clinician",
)
_CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True)
class LoadResult:
    created: int
    refreshed: int
    kept: int


def _content(row: AdviceItem) -> dict[str, Any]:
    return {name: getattr(row, name) for name in CONTENT_FIELDS}


def digest_of(row: AdviceItem) -> str:
    return catalogue.content_digest(**_content(row))


def _system_actor(actor: User | None) -> ledger.Actor:
    return actor_of(actor) if actor is not None else ledger.SYSTEM


def do_ensure_builtin(*, institution_id: uuid.UUID, actor: User | None = None) -> LoadResult:
    """Load (or refresh) the built-in catalogue for one institution. Internal: called by
    seed-demo and on an institution's first use of advice; it changes configuration only."""
    items = catalogue.builtin_items()
    created = refreshed = kept = 0
    with transaction.atomic():
        current = {
            row.code: row
            for row in AdviceItem.objects.select_for_update()
            .filter(institution_id=institution_id)
            .exclude(status=ItemStatus.SUPERSEDED)
        }
        written: list[AdviceItem] = []
        for item in items:
            fields = catalogue.as_fields(item)
            digest = catalogue.content_digest(**fields)  # type: ignore[arg-type]
            row = current.get(item.code)
            if row is None:
                new = AdviceItem(institution_id=institution_id, code=item.code, **fields)
                new.builtin_digest = digest
                new.save()
                written.append(new)
                created += 1
            elif (
                row.origin == Origin.BUILTIN
                and row.status == ItemStatus.ACTIVE
                and row.builtin_digest == digest_of(row)  # untouched since it was loaded
                and row.builtin_digest != digest  # and the file says something new
            ):
                row.status = ItemStatus.SUPERSEDED
                row.save(update_fields=["status", "updated_at"])
                new = AdviceItem(
                    institution_id=institution_id,
                    code=item.code,
                    version=row.version + 1,
                    builtin_digest=digest,
                    change_note="built-in catalogue update",
                    **fields,
                )
                new.save()
                written += [row, new]
                refreshed += 1
            else:
                kept += 1
        if written:
            ledger.record(
                actor=_system_actor(actor),
                action="advice.catalogue.load",
                purpose=PURPOSE,
                resource_type="AdviceCatalogue",
                resource_id=str(institution_id),
                detail={"created": created, "refreshed": refreshed, "kept": kept},
                sealed=written,
            )
    return LoadResult(created, refreshed, kept)


def ensure_loaded(institution_id: uuid.UUID, actor: User | None = None) -> None:
    """First use: an institution with no catalogue at all gets the built-in one."""
    if not AdviceItem.objects.filter(institution_id=institution_id).exists():
        do_ensure_builtin(institution_id=institution_id, actor=actor)


def check_can_manage(*, actor: User) -> None:
    require(actor, MANAGE, purpose=PURPOSE)


# --- validation of what an editor typed ------------------------------------------------------


def _citations(raw: Any, errors: dict[str, list[str]]) -> list[dict[str, str]]:
    """Citations as a list of dicts, or as text: one a line, "guideline | edition | section"."""
    rows: list[dict[str, str]] = []
    if isinstance(raw, str):
        for line in raw.splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            parts += [""] * (3 - len(parts))
            rows.append(
                {
                    "guideline": parts[0],
                    "edition": parts[1],
                    "section": " | ".join(parts[2:]).strip(" |"),
                }
            )
    else:
        rows = [
            {k: str((c or {}).get(k, "")).strip() for k in ("guideline", "edition", "section")}
            for c in raw or []
        ]
    if not rows:
        errors.setdefault("citations", []).append(_("Cite the guideline every item rests on."))
    for row in rows:
        if not row["guideline"] or not row["section"]:
            errors.setdefault("citations", []).append(
                _("Each citation needs the guideline and the section or page.")
            )
            break
    return rows


def validate_item(data: Mapping[str, Any]) -> dict[str, Any]:
    """The item fields from a form or the API; `ValidationFailed` names every bad field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    domain = str(data.get("domain", "")).strip()
    if domain not in DOMAINS:
        errors["domain"] = [_("Choose a domain.")]
    out["domain"] = domain
    try:
        priority = int(str(data.get("priority", 50)).strip() or 50)
        if not 1 <= priority <= 99:
            raise ValueError
    except ValueError:
        errors["priority"] = [_("Priority is a whole number from 1 to 99 (smaller shows first).")]
        priority = 50
    out["priority"] = priority
    for name, limit, required in (
        ("title", 200, True),
        ("body", 4000, True),
        ("title_en", 200, False),
        ("body_en", 4000, False),
    ):
        value = str(data.get(name, "") or "").strip()
        if required and not value:
            errors[name] = [_("This field is required.")]
        elif len(value) > limit:
            errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
        out[name] = value
    out["citations"] = _citations(data.get("citations", []), errors)
    applies = data.get("applies", [])
    try:
        parsed = parse_text(applies) if isinstance(applies, str) else normalise(applies)
        out["applies"] = [list(g) for g in parsed]
    except InvalidApplicability as exc:
        errors["applies"] = list(exc.problems)
        out["applies"] = []
    replaces = data.get("replaces", [])
    if isinstance(replaces, str):
        replaces = [r for r in replaces.replace(",", " ").split() if r]
    out["replaces"] = sorted({str(r).strip().lower() for r in replaces})
    out["needs_clinician"] = bool(data.get("needs_clinician", False))
    if errors:
        raise ValidationFailed(errors)
    return out


def _valid_code(raw: str) -> str:
    code = raw.strip().lower()
    if not code or len(code) > 80 or not set(code) <= _CODE_CHARS:
        raise ValidationFailed(
            {"code": [_("A code is lower-case letters, digits, dots, dashes or underscores.")]}
        )
    return code


def _record(actor: User, op: str, row: AdviceItem, sealed: list[AdviceItem]) -> None:
    ledger.record(
        actor=actor_of(actor),
        action="advice.catalogue.update",
        purpose=PURPOSE,
        resource_type="AdviceItem",
        resource_id=str(row.pk),
        detail={"op": op, "code": row.code, "version": row.version, "status": row.status},
        sealed=sealed,
    )


def _current_for_write(actor: User, code: str) -> AdviceItem:
    """The current version of `code` in the actor's institution, locked (DoesNotExist if none:
    another institution's item is simply not found)."""
    return (
        AdviceItem.objects.select_for_update()
        .exclude(status=ItemStatus.SUPERSEDED)
        .get(institution_id=actor.institution_id, code=code)
    )


def do_add_item(*, actor: User, code: str, data: Mapping[str, Any]) -> AdviceItem:
    check_can_manage(actor=actor)
    code = _valid_code(code)
    fields = validate_item(data)
    with transaction.atomic():
        if AdviceItem.objects.filter(institution_id=actor.institution_id, code=code).exists():
            raise ValidationFailed({"code": [_("This code is taken: codes are never reused.")]})
        row = AdviceItem(
            institution_id=actor.institution_id,
            code=code,
            origin=Origin.INSTITUTION,
            created_by=actor,
            **fields,
        )
        row.save()
        _record(actor, "add", row, [row])
    return row


def do_edit_item(
    *, actor: User, code: str, data: Mapping[str, Any], change_note: str = ""
) -> AdviceItem:
    """A new version of the item with the edited content; the old version is kept (sheets
    already issued keep pointing at it). No change, no new version."""
    check_can_manage(actor=actor)
    fields = validate_item(data)
    with transaction.atomic():
        row = _current_for_write(actor, code)
        if row.status != ItemStatus.ACTIVE:
            raise ValidationFailed({"__all__": [_("A retired item is reinstated before editing.")]})
        if _content(row) == fields:
            return row
        row.status = ItemStatus.SUPERSEDED
        row.save(update_fields=["status", "updated_at"])
        new = AdviceItem(
            institution_id=row.institution_id,
            code=row.code,
            version=row.version + 1,
            origin=Origin.INSTITUTION,
            change_note=change_note.strip()[:200],
            created_by=actor,
            **fields,
        )
        new.save()
        _record(actor, "edit", new, [row, new])
    return new


def _set_retired(actor: User, code: str, retired: bool) -> AdviceItem:
    check_can_manage(actor=actor)
    with transaction.atomic():
        row = _current_for_write(actor, code)
        wanted = ItemStatus.RETIRED if retired else ItemStatus.ACTIVE
        if row.status == wanted:
            return row
        row.status = wanted
        row.retired_by = actor if retired else None
        row.retired_at = timezone.now() if retired else None
        row.save(update_fields=["status", "retired_by", "retired_at", "updated_at"])
        _record(actor, "retire" if retired else "reinstate", row, [row])
    return row


def do_retire_item(*, actor: User, code: str) -> AdviceItem:
    """Take an item out of new sheets (issued sheets keep it); it can be reinstated."""
    return _set_retired(actor, code, True)


def do_reinstate_item(*, actor: User, code: str) -> AdviceItem:
    return _set_retired(actor, code, False)
