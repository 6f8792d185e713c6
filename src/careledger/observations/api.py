"""Trend routes of the JSON API, mounted under /api/clients: the same selector as the page, so
the same policy and ledger apply (one `observation.view` event per call)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from careledger.observations import selectors, trends
from careledger.observations.schemas import ClientTrendsRead

router = Router(tags=["observations"])


@router.get("/{client_id}/trends", response=ClientTrendsRead)
def client_trends(  # type: ignore[no-untyped-def]
    request: HttpRequest, client_id: uuid.UUID, code: Query[list[str] | None] = None
):
    """Every current result of the client by panel with its trend statistics, and what changed
    since the last check-up. `code` (repeatable or comma-separated) limits the indicators."""
    return payload(selectors.client_trends(request.user, client_id, codes=code))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _change(change: trends.Change | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "absolute": _number(change.absolute),
        "percent": None if change.percent is None else round(change.percent, 2),
        "significance": str(change.significance),
    }


def _point(p: trends.Point) -> dict[str, Any]:
    band = p.band
    return {
        "date": p.at,
        "value": _number(p.value),
        "comparator": p.comparator,
        "text": p.text,
        "display": p.display,
        "flag": p.flag,
        "band": None
        if band is None
        else {"low": _number(band.low), "high": _number(band.high), "text": band.text},
        "source_range": p.source_range,
        "source_flag": p.source_flag,
        "source_range_differs": p.source_range_differs,
        "change_previous": _change(p.previous),
        "change_baseline": _change(p.baseline),
    }


def _series(s: trends.Series) -> dict[str, Any]:
    ind = s.indicator
    points = [_point(p) for p in s.points]
    return {
        "code": ind.code,
        "name_zh": ind.name_zh,
        "name_en": ind.name_en,
        "abbreviation": ind.abbreviation,
        "kind": ind.kind,
        "unit": ind.unit,
        "unit_display": ind.unit_display,
        "decimals": ind.decimals,
        "ordinal_scale": list(ind.ordinal_scale),
        "rcv_down": None if s.rcv is None else round(s.rcv[0], 2),
        "rcv_up": None if s.rcv is None else round(s.rcv[1], 2),
        "slope_per_year": s.slope_per_year,
        "direction": s.direction,
        "latest": points[-1],
        "points": points,
    }


def _item(item: trends.ChangeItem) -> dict[str, Any]:
    return {
        "code": item.indicator.code,
        "name_zh": item.indicator.name_zh,
        "abbreviation": item.indicator.abbreviation,
        "unit": item.unit,
        "before": None if item.before is None else _point(item.before),
        "after": _point(item.after),
        "change": _change(item.change),
    }


def payload(data: selectors.ClientTrends) -> dict[str, Any]:
    summary = data.summary
    return {
        "client_id": data.client_id,
        "checkup_dates": list(data.checkup_dates),
        "result_count": data.result_count,
        "emergency": data.emergency,
        "summary": None
        if summary is None
        else {
            "latest_date": summary.latest_date,
            "previous_date": summary.previous_date,
            "new_abnormal": [_item(i) for i in summary.new_abnormal],
            "resolved": [_item(i) for i in summary.resolved],
            "significant": [_item(i) for i in summary.significant],
        },
        "panels": [
            {"key": p.key, "name": p.name, "indicators": [_series(s) for s in p.series]}
            for p in data.panels
        ],
    }
