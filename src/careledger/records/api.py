"""Health-record routes of the JSON API, mounted at /api/clients/{client_id}/record: the record
(GET) and a new entry of any section (POST, the body's `section` says which). Thin wrappers over
the same selectors and services as the pages, so the same policy and ledger apply."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Body, Path, Router

from careledger.records import selectors, services
from careledger.records.schemas import EntryCreate, EntryCreated, HealthRecordRead

router = Router(tags=["health record"])


def _entry(e: selectors.EntryView) -> dict[str, Any]:
    return {"id": e.id, "version": e.version, "updated_at": e.updated_at, **e.values}


def _vitals(v: Any) -> dict[str, Any]:
    values = {name: value for name, (value, _unit, _flag) in v.values.items()}
    return {"id": v.id, "measured_at": v.measured_at, "source_name": v.source_name, **values}


@router.get("", response=HealthRecordRead)
def read_record(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    health = selectors.health_record(request.user, client_id)
    out: dict[str, Any] = {
        key: [_entry(e) for e in rows] for key, rows in health.entries.items() if key != "lifestyle"
    }
    return {
        **out,
        "client_id": client_id,
        "emergency": health.emergency,
        "lifestyle": _entry(health.lifestyle) if health.lifestyle else None,
        "vitals": [_vitals(v) for v in health.vital_sets],
    }


@router.post("", response={201: EntryCreated})
def add_entry(request: HttpRequest, client_id: Path[uuid.UUID], payload: Body[EntryCreate]):  # type: ignore[no-untyped-def]
    data = payload.dict()
    saved = services.do_add_entry(
        actor=request.user, client_id=client_id, section=data.pop("section"), data=data
    )
    return 201, saved.__dict__
