"""Membership routes of the JSON API: `router` at /api/clients/{client_id}/membership (GET the
card year, balances and history; POST a use) and `config_router` at /api/config/membership
(GET/PUT the level table). Thin wrappers over the page's selectors and services."""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest
from ninja import Path, Router, Schema
from ninja.errors import HttpError

from careledger.membership import selectors as membership_selectors
from careledger.membership import services as membership_services
from careledger.membership.entitlements import NotEntitled

router = Router(tags=["membership"])
config_router = Router(tags=["membership"])


class BalanceRead(Schema):
    kind: str
    granted: int
    used: int
    left: int


class UseRead(Schema):
    id: uuid.UUID
    kind: str
    entry: str
    reference: str
    recorded_at: dt.datetime
    reversed: bool


class MembershipRead(Schema):
    client_id: uuid.UUID
    level: str
    card_status: str
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    problem: str
    balances: list[BalanceRead]
    history: list[UseRead]


class UseCreate(Schema):
    kind: str
    note: str = ""


def _membership(view: membership_selectors.MembershipView) -> dict:
    return {
        "client_id": view.client_id,
        "level": view.level,
        "card_status": view.card_status,
        "period_start": view.period.start if view.period else None,
        "period_end": view.period.end if view.period else None,
        "problem": view.problem,
        "balances": [
            {"kind": b.kind, "granted": b.granted, "used": b.used, "left": b.left}
            for b in view.balances
        ],
        "history": [
            {
                "id": r.id,
                "kind": r.kind,
                "entry": r.entry,
                "reference": r.reference,
                "recorded_at": r.recorded_at,
                "reversed": r.reversed,
            }
            for r in view.history
        ],
    }


@router.get("", response=MembershipRead)
def membership(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    return _membership(membership_selectors.client_membership(request.user, client_id))  # type: ignore[arg-type]


@router.post("", response={201: MembershipRead})
def use_entitlement(request: HttpRequest, client_id: Path[uuid.UUID], data: UseCreate):  # type: ignore[no-untyped-def]
    try:
        membership_services.do_redeem(
            actor=request.user,  # type: ignore[arg-type]
            client_id=client_id,
            kind=data.kind,
            note=data.note,
        )
    except NotEntitled as exc:
        raise HttpError(422, exc.code) from exc
    return 201, _membership(membership_selectors.client_membership(request.user, client_id))  # type: ignore[arg-type]


class LevelTableRead(Schema):
    quantities: dict[str, dict[str, int]]


@config_router.get("", response=LevelTableRead)
def level_table(request: HttpRequest):  # type: ignore[no-untyped-def]
    return {"quantities": membership_selectors.level_table(request.user).quantities}  # type: ignore[arg-type]


@config_router.put("", response=LevelTableRead)
def set_level_table(request: HttpRequest, data: LevelTableRead):  # type: ignore[no-untyped-def]
    try:
        membership_services.do_set_level_table(actor=request.user, data=data.quantities)  # type: ignore[arg-type]
    except membership_services.BadEntitlementInput as exc:
        raise HttpError(422, str(exc.errors)) from exc
    return {"quantities": membership_selectors.level_table(request.user).quantities}  # type: ignore[arg-type]
