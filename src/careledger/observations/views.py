"""The trend page (历年指标趋势): thin — one selector call for the results, one for the header."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from careledger.access.enforce import AccessDenied
from careledger.access.roles import Action, permits
from careledger.clients import selectors as client_selectors
from careledger.clients.models import Client
from careledger.observations import selectors, trends


def flag_labels() -> dict[str, str]:
    return {
        "N": _("Normal"),
        "H": _("Above range"),
        "L": _("Below range"),
        "HH": _("Critically high"),
        "LL": _("Critically low"),
        "A": _("Abnormal"),
        "": _("No range"),
    }


@login_required
def client_trends(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404
    try:
        data = selectors.client_trends(request.user, client_id)
    except AccessDenied as exc:
        # As on the profile: a clinician outside the care team is offered emergency access
        # (the refusal is already in the ledger); everyone else gets the plain refusal.
        if exc.decision.reason == "not_in_care_team" and permits(
            request.user.role, Action.BREAK_GLASS
        ):
            return render(
                request, "clients/break_glass_offer.html", {"client_id": client_id}, status=403
            )
        raise
    client = client_selectors.get_client(request.user, client_id)
    labels = flag_labels()
    return render(
        request,
        "observations/trends.html",
        {
            "c": client,
            "data": data,
            "panels": [
                PanelView(p.key, p.name, [_row(s, labels) for s in p.series]) for p in data.panels
            ],
            "summary": _summary(data.summary, labels),
            "chart_data": chart_payload(data, labels),
        },
    )


# --- what the template shows: strings formatted here, so the template only lays them out ----


@dataclass(frozen=True)
class ChangeView:
    text: str  # "+0.30 (+5.2%)"
    significance: str  # trends.Significance value
    label: str


@dataclass(frozen=True)
class PointView:
    at: Any
    display: str
    flag: str
    flag_label: str
    band: str
    source_range: str
    source_flag: str
    source_range_differs: bool
    previous: ChangeView | None
    baseline: ChangeView | None


@dataclass(frozen=True)
class RowView:
    code: str
    name: str
    abbreviation: str
    unit: str
    ordinal: bool
    latest: PointView
    slope: str
    direction: str
    count: int
    points: list[PointView]  # newest first


@dataclass(frozen=True)
class PanelView:
    key: str
    name: str
    rows: list[RowView]


@dataclass(frozen=True)
class ItemView:
    name: str
    abbreviation: str
    unit: str
    before: PointView | None
    after: PointView
    change: ChangeView | None


@dataclass(frozen=True)
class SummaryView:
    latest_date: Any
    previous_date: Any
    new_abnormal: list[ItemView]
    resolved: list[ItemView]
    significant: list[ItemView]
    empty: bool


def significance_labels() -> dict[str, str]:
    return {
        "rise": _("Significant rise"),
        "fall": _("Significant fall"),
        "within": _("No"),
        "not_assessable": _("Not assessable"),
    }


def _change(ind: Any, change: trends.Change | None) -> ChangeView | None:
    if change is None:
        return None
    labels = significance_labels()
    if change.absolute is None:
        text = "—"
    else:
        text = f"{change.absolute:+.{ind.decimals}f}"
        if change.percent is not None:
            text += f" ({change.percent:+.1f}%)"
    return ChangeView(text, str(change.significance), labels[str(change.significance)])


def _point(ind: Any, p: trends.Point, labels: dict[str, str]) -> PointView:
    return PointView(
        at=p.at,
        display=p.display,
        flag=p.flag,
        flag_label=labels.get(p.flag, p.flag),
        band=p.band.text if p.band else "",
        source_range=p.source_range,
        source_flag=p.source_flag,
        source_range_differs=p.source_range_differs,
        previous=_change(ind, p.previous),
        baseline=_change(ind, p.baseline),
    )


def _row(s: trends.Series, labels: dict[str, str]) -> RowView:
    ind = s.indicator
    points = [_point(ind, p, labels) for p in s.points]
    slope = ""
    if s.slope_per_year is not None:
        slope = _("%(slope)s %(unit)s per year") % {
            "slope": f"{s.slope_per_year:+.{ind.decimals + 1}f}",
            "unit": ind.unit_display,
        }
    return RowView(
        code=ind.code,
        name=ind.name_zh,
        abbreviation=ind.abbreviation,
        unit=ind.unit_display,
        ordinal=ind.is_ordinal,
        latest=points[-1],
        slope=slope,
        direction=s.direction,
        count=len(points),
        points=points[::-1],
    )


def _summary(summary: trends.ChangeSummary | None, labels: dict[str, str]) -> SummaryView | None:
    if summary is None:
        return None

    def items(found: tuple[trends.ChangeItem, ...]) -> list[ItemView]:
        return [
            ItemView(
                name=i.indicator.name_zh,
                abbreviation=i.indicator.abbreviation,
                unit=i.unit,
                before=None if i.before is None else _point(i.indicator, i.before, labels),
                after=_point(i.indicator, i.after, labels),
                change=_change(i.indicator, i.change),
            )
            for i in found
        ]

    return SummaryView(
        latest_date=summary.latest_date,
        previous_date=summary.previous_date,
        new_abnormal=items(summary.new_abnormal),
        resolved=items(summary.resolved),
        significant=items(summary.significant),
        empty=summary.empty,
    )


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _chart_point(p: trends.Point) -> dict[str, Any]:
    band = p.band
    return {
        "d": p.at.isoformat(),
        "v": _num(p.value),
        "s": p.display,
        "f": p.flag,
        "lo": _num(band.low) if band else None,
        "hi": _num(band.high) if band else None,
        "bt": band.text if band else "",
        "sr": p.source_range if p.source_range_differs else "",
        "sf": p.source_flag,
    }


def chart_payload(data: selectors.ClientTrends, labels: dict[str, str]) -> dict[str, Any]:
    """What the chart script needs, compact (one chart per indicator): dates, values, flags,
    the band in force at each point, and the lab's range where it differs from ours."""
    return {
        "labels": {
            "flags": labels,
            "date": _("Date"),
            "result": _("Result"),
            "range": _("Reference range"),
            "source_range": _("Laboratory's range"),
            "source_flag": _("Laboratory's flag"),
            "band": _("Reference band"),
        },
        "charts": [
            {
                "code": s.indicator.code,
                "name": s.indicator.name_zh,
                "abbr": s.indicator.abbreviation,
                "unit": s.indicator.unit_display,
                "decimals": s.indicator.decimals,
                "ordinal": s.indicator.is_ordinal,
                "scale": list(s.indicator.ordinal_scale),
                "points": [_chart_point(p) for p in s.points],
            }
            for s in data.series
        ],
    }
