"""JSON API: `router` is client-scoped (mounted under /api/clients/{client_id}/tags),
`config_router` holds the admin's rule configuration (mounted under /api/config/tag-rules).
Thin wrappers over the same selectors and services as the pages (same policy, same ledger)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Body, Path, Router
from ninja.errors import HttpError

from careledger.tagging import config_selectors, presentation, selectors, services
from careledger.tagging.models import TagDefinition, TagRule
from careledger.tagging.schemas import (
    ClientTagsRead,
    DraftIn,
    ExpressionIn,
    HistoryRead,
    ManualTagIn,
    ManualTagOut,
    PreviewOut,
    RuleRead,
    TagCreate,
    TagRead,
    ValidationOut,
)
from careledger.tagging.services import RuleInvalid, TagInput

router = Router(tags=["tagging"])
config_router = Router(tags=["tagging"])


@router.get("", response=ClientTagsRead)
def read_tags(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    carried = selectors.client_tags(request.user, client_id)
    return {
        "client_id": client_id,
        "emergency": carried.emergency,
        "tags": [c.__dict__ for c in carried.chips],
    }


@router.get("/history", response=list[HistoryRead])
def read_history(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    return [h.__dict__ for h in selectors.tag_history(request.user, client_id)]


@router.post("", response={201: ManualTagOut})
def manual_tag(request: HttpRequest, client_id: Path[uuid.UUID], payload: Body[ManualTagIn]):  # type: ignore[no-untyped-def]
    """Apply (`op` "apply") or remove (`op` "remove") a manual tag, with a reason."""
    do = services.do_remove_manual_tag if payload.op == "remove" else services.do_apply_manual_tag
    try:
        event = do(
            actor=request.user, client_id=client_id, tag_id=payload.tag_id, reason=payload.reason
        )
    except TagDefinition.DoesNotExist as exc:
        raise HttpError(404, "not found") from exc
    return 201, {"event_id": event.id, "op": event.op}


# --- configuration ------------------------------------------------------------------------


def _rule(r: TagRule) -> dict[str, Any]:
    return {
        "id": r.id,
        "version": r.version,
        "status": r.status,
        "expression": r.expression,
        "facts": r.facts or [],
        "note": r.note,
        "published_at": r.published_at,
    }


def _tag(t: TagDefinition, carried: int = 0, rules: list[TagRule] | None = None) -> dict:
    return {
        "id": t.id,
        "code": t.code,
        "name_zh": t.name_zh,
        "name_en": t.name_en,
        "colour": t.colour,
        "category": t.category,
        "is_active": t.is_active,
        "carried": carried,
        "rules": [_rule(r) for r in rules or []],
    }


def _invalid(exc: RuleInvalid) -> dict[str, Any]:
    e = exc.error
    return {
        "valid": False,
        "error": {
            "code": e.code,
            "message": presentation.error_message(e),
            "line": e.line,
            "col": e.col,
            "start": e.start,
            "end": e.end,
        },
    }


@config_router.get("", response=list[TagRead])
def list_tags(request: HttpRequest):  # type: ignore[no-untyped-def]
    rows = config_selectors.tag_overview(request.user)
    return [_tag(r.tag, r.carried, [x for x in (r.published, r.draft) if x]) for r in rows]


@config_router.post("", response={201: TagRead, 422: ValidationOut})
def create_tag(request: HttpRequest, payload: Body[TagCreate]):  # type: ignore[no-untyped-def]
    d = payload.dict()
    try:
        tag = services.do_create_tag(
            actor=request.user,
            data=TagInput(d["code"], d["name_zh"], d["name_en"], d["colour"], d["category"]),
            expression=d["expression"],
        )
    except RuleInvalid as exc:
        return 422, _invalid(exc)
    return 201, _tag(tag, 0, list(tag.rules.all()))


@config_router.post("/validate", response=ValidationOut)
def validate(request: HttpRequest, payload: Body[ExpressionIn]):  # type: ignore[no-untyped-def]
    services.check_can_configure(actor=request.user)
    try:
        compiled = services.validate_expression(payload.expression)
    except RuleInvalid as exc:
        return _invalid(exc)
    return {"valid": True, "facts": compiled.columns}


@config_router.get("/{tag_id}", response=TagRead)
def read_tag(request: HttpRequest, tag_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    try:
        tag, versions = config_selectors.tag_detail(request.user, tag_id)
    except TagDefinition.DoesNotExist as exc:
        raise HttpError(404, "not found") from exc
    return _tag(tag, 0, versions)


@config_router.post("/{tag_id}/draft", response={200: RuleRead, 404: Any, 422: ValidationOut})
def save_draft(request: HttpRequest, tag_id: Path[uuid.UUID], payload: Body[DraftIn]):  # type: ignore[no-untyped-def]
    try:
        rule = services.do_save_draft(
            actor=request.user, tag_id=tag_id, expression=payload.expression, note=payload.note
        )
    except TagDefinition.DoesNotExist as exc:
        raise HttpError(404, "not found") from exc
    except RuleInvalid as exc:
        return 422, _invalid(exc)
    return 200, _rule(rule)


@config_router.post("/{tag_id}/preview", response={200: PreviewOut, 422: ValidationOut})
def preview(request: HttpRequest, tag_id: Path[uuid.UUID], payload: Body[ExpressionIn]):  # type: ignore[no-untyped-def]
    try:
        result = config_selectors.preview(
            request.user, tag_id=tag_id, expression=payload.expression
        )
    except TagDefinition.DoesNotExist as exc:
        raise HttpError(404, "not found") from exc
    except RuleInvalid as exc:
        return 422, _invalid(exc)
    return 200, {**result.__dict__, "bands": [b.__dict__ for b in result.bands]}


@config_router.post("/versions/{rule_id}/publish", response=RuleRead)
def publish(request: HttpRequest, rule_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    try:
        return _rule(services.do_publish_rule(actor=request.user, rule_id=rule_id))
    except TagRule.DoesNotExist as exc:
        raise HttpError(404, "not found") from exc


@config_router.post("/versions/{rule_id}/retire", response=RuleRead)
def retire(request: HttpRequest, rule_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    try:
        return _rule(services.do_retire_rule(actor=request.user, rule_id=rule_id))
    except TagRule.DoesNotExist as exc:
        raise HttpError(404, "not found") from exc
