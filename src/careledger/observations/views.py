"""The trend page (历年指标趋势): thin — one selector call for the results, one for the header.

The rest of this module turns the selector's statistics into what the template lays out:
numbers formatted with each indicator's decimals, labels translated once per request. The
table of every result (one row per result, about a thousand for ten years of a full check-up)
is rendered here with `format_html` rather than by a template loop, which costs ten times less
(a template loop with a dozen lookups per row took ~100 ms for 1,000 rows).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from html import escape
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from careledger.access.enforce import AccessDenied
from careledger.access.roles import Action, permits
from careledger.clients import selectors as client_selectors
from careledger.clients.models import Client
from careledger.observations import selectors, trends
from careledger.observations.catalogue import Indicator

FLAG_SYMBOLS = {"H": "↑", "L": "↓", "HH": "↑↑", "LL": "↓↓", "A": "!"}


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


def significance_labels() -> dict[str, str]:
    return {
        "rise": _("Significant rise"),
        "fall": _("Significant fall"),
        "within": _("No"),
        "not_assessable": _("Not assessable"),
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
    labels = Labels(flag_labels(), significance_labels())
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
            "chart_data": chart_payload(data, labels.flags),
        },
    )


# --- what the template shows ---------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    flags: dict[str, str]
    significance: dict[str, str]


@dataclass(frozen=True)
class ChangeView:
    text: str  # "+0.30 (+5.2%)"
    significance: str  # trends.Significance value
    label: str

    @property
    def significant(self) -> bool:
        return self.significance in ("rise", "fall")


@dataclass(frozen=True)
class PointView:
    at: dt.date
    display: str
    flag: str
    flag_label: str
    flag_symbol: str  # ↑ ↓ ↑↑ ↓↓ ! beside the label (not by colour alone)
    band: str
    source_range: str
    source_flag: str
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
    results_html: SafeString  # <tr> per result, newest first


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
    latest_date: dt.date
    previous_date: dt.date | None
    new_abnormal: list[ItemView]
    resolved: list[ItemView]
    significant: list[ItemView]
    empty: bool


def _change(ind: Indicator, change: trends.Change | None, labels: Labels) -> ChangeView | None:
    if change is None:
        return None
    if change.absolute is None:
        text = "—"
    else:
        text = f"{change.absolute:+.{ind.decimals}f}"
        if change.percent is not None:
            text += f" ({change.percent:+.1f}%)"
    significance = str(change.significance)
    return ChangeView(text, significance, labels.significance[significance])


def _point(ind: Indicator, p: trends.Point, labels: Labels) -> PointView:
    return PointView(
        at=p.at,
        display=p.display,
        flag=p.flag,
        flag_label=labels.flags.get(p.flag, p.flag),
        flag_symbol=FLAG_SYMBOLS.get(p.flag, ""),
        band=p.band.text if p.band else "",
        source_range=p.source_range,
        source_flag=p.source_flag,
        previous=_change(ind, p.previous, labels),
        baseline=_change(ind, p.baseline, labels),
    )


def _flag_html(p: PointView) -> str:
    if not p.flag:
        return ""
    return (
        f'<span class="flag-badge flag-{escape(p.flag)}">'
        f"{p.flag_symbol} {escape(p.flag_label)}</span>"
    )


def _sig_html(c: ChangeView | None, *, plain_within: bool) -> str:
    if c is None:
        return '<span class="cell-sub">—</span>'
    if c.significant:
        return f'<span class="sig-badge sig-{c.significance}">{escape(c.label)}</span>'
    if plain_within:
        return f'<span class="cell-sub">{escape(c.label)}</span>'
    return ""


def _baseline_html(c: ChangeView | None) -> str:
    if c is None:
        return '<span class="cell-sub">—</span>'
    return f'<span class="num">{escape(c.text)}</span> {_sig_html(c, plain_within=False)}'


def _results_html(unit: str, points: list[PointView]) -> SafeString:
    """The rows of the full results table, newest first (every value escaped)."""
    unit_cell = f'<td class="cell-sub">{escape(unit)}</td>'
    rows = []
    for p in reversed(points):
        previous, baseline = p.previous, p.baseline
        rows.append(
            "<tr>"
            f'<td class="num">{p.at.isoformat()}</td>'
            f'<td class="num">{escape(p.display)}</td>'
            f"{unit_cell}"
            f"<td>{_flag_html(p)}</td>"
            f'<td class="num">{escape(p.band or "—")}</td>'
            f'<td class="num">{escape(p.source_range or "—")}</td>'
            f"<td>{escape(p.source_flag or '—')}</td>"
            f'<td class="num">{escape(previous.text if previous else "—")}</td>'
            f"<td>{_sig_html(previous, plain_within=True)}</td>"
            f"<td>{_baseline_html(baseline)}</td>"
            "</tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308 (built from escaped parts above)


def _row(s: trends.Series, labels: Labels) -> RowView:
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
        results_html=_results_html(ind.unit_display, points),
    )


def _summary(summary: trends.ChangeSummary | None, labels: Labels) -> SummaryView | None:
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
                change=_change(i.indicator, i.change, labels),
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


# --- what the chart script gets ------------------------------------------------------------


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


def chart_payload(data: selectors.ClientTrends, flags: dict[str, str]) -> dict[str, Any]:
    """What the chart script needs, compact (one chart per indicator): dates, values, flags,
    the band in force at each point, and the lab's range where it differs from ours. The labels
    travel with the data, so the script holds no text to translate."""
    return {
        "labels": {
            "flags": flags,
            "date": _("Date"),
            "result": _("Result"),
            "range": _("Reference range"),
            "source_range": _("Laboratory's range"),
            "source_flag": _("Laboratory's flag"),
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
