"""Code mapping (代码映射) and the indicator catalogue browser, for the institution admin.

An exam centre's own item codes that matched no catalogue entry quarantine their results; here
an admin maps each to a catalogue entry (one click on a suggestion, or a search of the
catalogue by name, abbreviation or LOINC code), and the results waiting on that code are retried
at once. Codes and counts only: nothing here shows anyone's results.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careledger.access.enforce import require
from careledger.access.roles import Action
from careledger.exams import selectors as exam_selectors
from careledger.exams import services as exam_services
from careledger.observations import catalogue
from careledger.observations.models import LocalCode
from careledger.observations.services import (
    MappingRefused,
    do_map_local_code,
    do_unmap_local_code,
)

PURPOSE = "configuration"
PICK_LIMIT = 12


class MapCodeForm(forms.Form):
    source_name = forms.CharField(max_length=100)
    local_code = forms.CharField(max_length=64)
    local_name = forms.CharField(max_length=100, required=False)
    code = forms.CharField(max_length=32)


def _pick(query: str) -> list[catalogue.Indicator]:
    return catalogue.suggest(query)[:PICK_LIMIT] if query.strip() else []


@login_required
def codes(request: HttpRequest) -> HttpResponse:
    unknown = exam_selectors.unknown_codes(request.user)  # asks the policy (CATALOGUE_MAP)
    mappings = list(
        LocalCode.objects.filter(institution_id=request.user.institution_id)
        .select_related("mapped_by")
        .order_by("source_name", "local_code")
    )
    names = {m.code: catalogue.find(m.code) for m in mappings}
    # The catalogue picker without JavaScript: its results come back inline on this page.
    picking = request.GET.get("pick", "")
    query = request.GET.get("q", "")[:100]
    return render(
        request,
        "observations/config/codes.html",
        {
            "unknown": unknown,
            "mappings": [(m, names.get(m.code)) for m in mappings],
            "picking": picking,
            "query": query,
            "picked": _pick(query) if picking else [],
        },
    )


@login_required
def catalogue_pick(request: HttpRequest) -> HttpResponse:
    """Catalogue entries matching a name, abbreviation or LOINC code, each with a button that
    maps the given local code to it (the picker's HTMX fragment)."""
    require(request.user, Action.CATALOGUE_MAP, purpose=PURPOSE)
    query = request.GET.get("q", "")[:100]
    return render(
        request,
        "observations/config/_picker.html",
        {
            "picked": _pick(query),
            "query": query,
            "source_name": request.GET.get("source_name", "")[:100],
            "local_code": request.GET.get("local_code", "")[:64],
            "local_name": request.GET.get("local_name", "")[:100],
        },
    )


@login_required
@require_POST
def map_code(request: HttpRequest) -> HttpResponse:
    form = MapCodeForm(request.POST)
    if not form.is_valid():
        require(request.user, Action.CATALOGUE_MAP, purpose=PURPOSE)
        messages.error(request, _("Choose a catalogue entry for the code."))
        return redirect("config:codes")
    d = form.cleaned_data
    try:
        row = do_map_local_code(
            actor=request.user,
            source_name=d["source_name"],
            local_code=d["local_code"],
            local_name=d["local_name"],
            code=d["code"],
        )
    except MappingRefused as exc:
        messages.error(request, _("Not mapped: %(problem)s") % {"problem": exc.message})
        return redirect("config:codes")
    tally = exam_services.do_retry_code(
        actor=request.user, source_name=row.source_name, local_code=row.local_code
    )
    indicator = catalogue.get(row.code)
    messages.success(
        request,
        _(
            "%(local)s now means %(name)s (%(code)s): %(imported)s waiting results landed, "
            "%(quarantined)s still in quarantine."
        )
        % {
            "local": row.local_code,
            "name": indicator.name_zh,
            "code": indicator.code,
            "imported": tally.imported,
            "quarantined": tally.quarantined,
        },
    )
    return redirect("config:codes")


@login_required
@require_POST
def unmap_code(request: HttpRequest, mapping_id: uuid.UUID) -> HttpResponse:
    try:
        do_unmap_local_code(actor=request.user, mapping_id=mapping_id)
    except LocalCode.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(
        request, _("Mapping removed. Results imported with it keep their catalogue entry.")
    )
    return redirect("config:codes")


# --- the catalogue, read only ----------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorView:
    ind: catalogue.Indicator
    ranges: list[str]
    conversions: list[str]
    critical: str
    variation: str


def _num(value: Decimal | float | None) -> str:
    if value is None:
        return ""
    text = f"{float(value):.6g}"
    return text


def _sexes() -> dict[str, str]:
    return {"M": _("Men"), "F": _("Women"), "": ""}


def _range_line(r: catalogue.ReferenceRange, sexes: dict[str, str]) -> str:
    who = []
    if r.sex:
        who.append(sexes[r.sex])
    if r.age_min is not None or r.age_max is not None:
        low = "" if r.age_min is None else str(r.age_min)
        high = "" if r.age_max is None else str(r.age_max)
        who.append(_("age %(low)s–%(high)s") % {"low": low, "high": high})
    return f"{' '.join(who)}: {r.text}" if who else r.text


def _view(ind: catalogue.Indicator, sexes: dict[str, str]) -> IndicatorView:
    conversions = []
    for c in ind.conversions:
        if c.is_identity:
            continue
        line = f"{c.unit} × {_num(c.numerator / c.denominator)}"
        if c.offset:
            line += f" {'+' if c.offset > 0 else '−'} {_num(abs(c.offset))}"
        conversions.append(line)
    critical = []
    if ind.critical_low is not None:
        critical.append(f"{'≤' if ind.critical_inclusive else '<'}{_num(ind.critical_low)}")
    if ind.critical_high is not None:
        critical.append(f"{'≥' if ind.critical_inclusive else '>'}{_num(ind.critical_high)}")
    variation = []
    if ind.cv_analytical is not None:
        variation.append(f"CVa {_num(ind.cv_analytical)}%")
    if ind.cv_within is not None:
        variation.append(f"CVi {_num(ind.cv_within)}%")
    change = catalogue.rcv(ind)
    if change is not None:
        variation.append(f"RCV {change[0]:+.0f}% / {change[1]:+.0f}%")
    return IndicatorView(
        ind=ind,
        ranges=[_range_line(r, sexes) for r in ind.ranges],
        conversions=conversions,
        critical=" · ".join(critical),
        variation=" · ".join(variation),
    )


@login_required
def catalogue_browser(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.CATALOGUE_MAP, purpose=PURPOSE)
    query = request.GET.get("q", "")[:100].strip()
    chosen = catalogue.suggest(query) if query else catalogue.all_indicators()
    codes = {i.code for i in chosen}
    sexes = _sexes()
    panels = []
    for key, name in catalogue.panels():
        rows = [_view(i, sexes) for i in catalogue.all_indicators() if i.panel == key]
        rows = [r for r in rows if r.ind.code in codes]
        if rows:
            panels.append((key, name, rows))
    return render(
        request,
        "observations/config/catalogue.html",
        {"panels": panels, "query": query, "count": len(codes)},
    )
