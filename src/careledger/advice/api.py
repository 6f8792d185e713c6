"""JSON API: `router` is client-scoped (mounted under /api/clients/{client_id}/advice),
`config_router` holds the institution's catalogue (mounted under /api/config/advice). Thin
wrappers over the same selectors and services as the pages, so the same policy and ledger apply.

Client routes: GET "" the sheet as it stands now; POST "" issue it; GET "/sheet" the newest
issued sheet (or `?id=` one of them; `{"sheet": null}` when none). Catalogue routes: GET "" the
items (`domain`, `key`, `status`, `q`), POST "" add; GET/PUT "/item?code=" one item with its
versions / a new version; POST "/item/retire?code=" and "/item/reinstate?code=". Identifiers
other than the client's travel as query parameters, optional in the signature so that the policy
answers before any shape check.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Body, Path, Query, Router

from careledger.advice import catalogue_selectors as cat
from careledger.advice import catalogue_services, selectors, services
from careledger.advice.assembly import SheetItem
from careledger.advice.models import AdviceItem, AdviceSheet
from careledger.advice.schemas import (
    AdviceSheetRead,
    IssueCreate,
    Issued,
    IssuedSheetEnvelope,
    ItemCreate,
    ItemDetailRead,
    ItemRead,
    ItemUpdate,
)

router = Router(tags=["advice"])
config_router = Router(tags=["advice"])


def _on_sheet(e: SheetItem) -> dict[str, Any]:
    return {
        "code": e.item.code,
        "version": e.item.version,
        "domain": e.item.domain,
        "title": e.item.title,
        "body": e.item.body,
        "citation": e.item.citation,
        "needs_clinician": e.item.needs_clinician,
        "general": not e.groups,
        "keys": list(e.keys),
        "reasons": list(e.reasons),
    }


@router.get("", response=AdviceSheetRead)
def read_sheet(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    page = selectors.advice_sheet(request.user, client_id)
    return {
        "client_id": client_id,
        "emergency": page.emergency,
        "fingerprint": page.fingerprint,
        "client_keys": sorted(page.keys.keys),
        "sources": page.keys.sources,
        "items": [_on_sheet(e) for e in page.sheet.items],
        "issued": [s.__dict__ for s in page.issued],
    }


@router.post("", response={201: Issued})
def issue_sheet(request: HttpRequest, client_id: Path[uuid.UUID], payload: Body[IssueCreate]):  # type: ignore[no-untyped-def]
    sheet = services.do_issue_sheet(
        actor=request.user,
        client_id=client_id,
        note=payload.note,
        fingerprint=payload.fingerprint,
    )
    return 201, {"id": sheet.id, "issued_at": sheet.issued_at, "items": sheet.items.count()}


@router.get("/sheet", response=IssuedSheetEnvelope)
def read_issued(request: HttpRequest, client_id: Path[uuid.UUID], id: Query[str] = ""):  # type: ignore[no-untyped-def]
    try:
        if id:
            found = selectors.issued_sheet(request.user, client_id, uuid.UUID(id))
        else:
            found = selectors.latest_issued_sheet(request.user, client_id)
    except (ValueError, AdviceSheet.DoesNotExist) as exc:
        raise Http404 from exc
    if found is None:
        return {"sheet": None}
    items = [i for _d, section in found.sections for i in section] + found.general
    return {
        "sheet": {
            "id": found.id,
            "issued_at": found.issued_at,
            "issued_by": found.issued_by,
            "needs_clinician": found.needs_clinician,
            "client_keys": found.client_keys,
            "matched_keys": found.matched_keys,
            "note": found.note,
            "items": [
                {
                    **{k: getattr(i, k) for k in ("code", "version", "domain", "title", "body")},
                    "citation": i.citation,
                    "needs_clinician": i.needs_clinician,
                    "general": i.general,
                    "keys": list(i.keys),
                    "reasons": list(i.reasons),
                }
                for i in items
            ],
        }
    }


# --- the catalogue ---------------------------------------------------------------------------


def _item(row: AdviceItem) -> dict[str, Any]:
    return {
        name: getattr(row, name)
        for name in (
            "code",
            "version",
            "status",
            "origin",
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
            "created_at",
            "change_note",
        )
    }


@config_router.get("", response=list[ItemRead])
def list_items(  # type: ignore[no-untyped-def]
    request: HttpRequest, domain: str = "", key: str = "", status: str = "active", q: str = ""
):
    status = status if status in cat.STATUSES else "active"
    views = cat.catalogue_items(request.user, domain=domain, key=key, status=status, q=q)
    return [_item(v.row) for v in views]


@config_router.post("", response={201: ItemRead})
def add_item(request: HttpRequest, payload: Body[ItemCreate]):  # type: ignore[no-untyped-def]
    data = payload.dict()
    code = data.pop("code")
    return 201, _item(catalogue_services.do_add_item(actor=request.user, code=code, data=data))


def _code_or_404(code: str) -> str:
    if not code:
        raise Http404
    return code


@config_router.get("/item", response=ItemDetailRead)
def read_item(request: HttpRequest, code: str = ""):  # type: ignore[no-untyped-def]
    catalogue_services.check_can_manage(actor=request.user)
    try:
        detail = cat.item_detail(request.user, _code_or_404(code))
    except AdviceItem.DoesNotExist as exc:
        raise Http404 from exc
    return {"current": _item(detail.current.row), "versions": [_item(v) for v in detail.versions]}


@config_router.put("/item", response=ItemRead)
def edit_item(request: HttpRequest, payload: Body[ItemUpdate], code: str = ""):  # type: ignore[no-untyped-def]
    catalogue_services.check_can_manage(actor=request.user)
    data = payload.dict()
    note = data.pop("change_note")
    try:
        row = catalogue_services.do_edit_item(
            actor=request.user, code=_code_or_404(code), data=data, change_note=note
        )
    except AdviceItem.DoesNotExist as exc:
        raise Http404 from exc
    return _item(row)


@config_router.post("/item/retire", response=ItemRead)
def retire_item(request: HttpRequest, code: str = ""):  # type: ignore[no-untyped-def]
    catalogue_services.check_can_manage(actor=request.user)
    try:
        return _item(catalogue_services.do_retire_item(actor=request.user, code=_code_or_404(code)))
    except AdviceItem.DoesNotExist as exc:
        raise Http404 from exc


@config_router.post("/item/reinstate", response=ItemRead)
def reinstate_item(request: HttpRequest, code: str = ""):  # type: ignore[no-untyped-def]
    catalogue_services.check_can_manage(actor=request.user)
    try:
        return _item(
            catalogue_services.do_reinstate_item(actor=request.user, code=_code_or_404(code))
        )
    except AdviceItem.DoesNotExist as exc:
        raise Http404 from exc
