"""Gather one client's report from the selectors that own each part (each read authorised and
ledgered there, as on the client's pages) and turn it into the plain document that is hashed,
signed and drawn (`careledger.reports.document`).

Every value is written as the report prints it (strings), so the document is the report: the
client's identifiers as the viewer's role may see them (masked for the nurse, by the policy in
`clients.selectors.get_client`), the latest abnormal results, the points of the key indicators'
trends, each risk with its inputs and sources, the newest issued advice sheet and the tags.
Sections whose data this system does not hold yet (stage summaries, care plans) are listed as
"not recorded" rather than left out silently.
"""

from __future__ import annotations

import uuid
import zoneinfo
from typing import Any

from django.conf import settings
from django.utils import translation

from careledger.accounts.models import Role, User
from careledger.advice.models import Domain
from careledger.advice.selectors import latest_issued_sheet
from careledger.assessment.selectors import client_risks
from careledger.assessment.templatetags.risk_display import choice, ucum
from careledger.clients.selectors import get_client
from careledger.institutions.models import Institution
from careledger.observations.selectors import client_trends
from careledger.reports.labels import FLAG_KEYS, labels
from careledger.tagging.selectors import client_tags

# Indicators charted when the client has at least two numeric results of them (this order).
KEY_INDICATORS = (
    "8480-6",  # systolic BP
    "8462-4",  # diastolic BP
    "2345-7",  # fasting glucose
    "4548-4",  # HbA1c
    "2093-3",  # total cholesterol
    "18262-6",  # LDL-C
    "2571-8",  # triglycerides
    "39156-5",  # BMI
    "8280-0",  # waist
    "2160-0",  # creatinine
)
MAX_CHARTS = 8
NOT_YET = ("stage_summary", "care_plan")  # issue 6, deliverables 6 and 7: later


def _zh() -> bool:
    return (translation.get_language() or "zh-hans").lower().startswith("zh")


def _unit(ind) -> str:  # type: ignore[no-untyped-def]
    return str(ucum(ind.unit_display))


def _band(point) -> tuple[str | None, str | None]:  # type: ignore[no-untyped-def]
    band = point.band
    if band is None:
        return None, None
    return (
        None if band.low is None else str(band.low),
        None if band.high is None else str(band.high),
    )


def _flag_text(flag: str, words: dict[str, str]) -> str:
    return words[FLAG_KEYS.get(flag, "flag_abnormal")]


def _results(trends, words: dict[str, str]) -> tuple[list[dict], list[dict]]:  # type: ignore[no-untyped-def]
    abnormal, charted = [], {}
    for series in trends.series:
        ind = series.indicator
        name = ind.name_zh if _zh() else ind.name_en
        latest = series.points[-1]
        if latest.abnormal:
            abnormal.append(
                {
                    "code": ind.code,
                    "indicator": name,
                    "value": latest.display,
                    "unit": _unit(ind),
                    "flag": f"{latest.flag} {_flag_text(latest.flag, words)}",
                    "range": latest.band.text if latest.band else latest.source_range,
                    "date": latest.at.isoformat(),
                }
            )
        numeric = [p for p in series.points if p.value is not None and not p.comparator]
        if ind.code in KEY_INDICATORS and len(numeric) >= 2:
            low, high = _band(latest)
            charted[ind.code] = {
                "code": ind.code,
                "name": name,
                "unit": _unit(ind),
                "low": low,
                "high": high,
                "points": [
                    {"at": p.at.isoformat(), "value": str(p.value), "flag": p.flag} for p in numeric
                ],
            }
    chosen = [charted[c] for c in KEY_INDICATORS if c in charted][:MAX_CHARTS]
    return abnormal, chosen


def _value(value: Any, words: dict[str, str]) -> str:
    if isinstance(value, bool):
        return words["yes"] if value else words["no"]
    return str(choice(value))


def _risk(view, words: dict[str, str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    zh = _zh()
    if not view.applicable:
        why = "；".join(r.get("zh" if zh else "en", "") for r in view.reasons if r)
        result = f"{words['not_applicable']}" + (f"（{why}）" if why else "")
    else:
        shown = (
            f"{view.percent}%"
            if view.percent is not None
            else ("" if view.value is None else f"{view.value:g} {ucum(view.unit)}".strip())
        )
        level = view.level_zh if zh else view.level_en
        result = f"{shown}（{level}）" if shown and level else (shown or level)
    inputs = []
    for i in view.inputs:
        label = i.label_zh if zh else i.label_en
        source = i.source_zh if zh else i.source_en
        where = f"{source} {i.at}".strip()
        unit = str(ucum(i.unit))
        inputs.append(f"{label} {_value(i.value, words)}{(' ' + unit) if unit else ''}（{where}）")
    return {
        "title": view.title_zh if zh else view.title_en,
        "result": result,
        "inputs": inputs,
        "citation": view.citation,
    }


def _advice(sheet, words: dict[str, str]) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    if sheet is None:
        return None
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    domains = dict(Domain.choices)
    sections = [
        {
            "domain": str(domains.get(domain, domain)),
            "items": [{"title": i.title, "body": i.body, "citation": i.citation} for i in items],
        }
        for domain, items in sheet.sections
    ]
    if sheet.general:
        sections.append(
            {
                "domain": str(words["advice"]),
                "items": [
                    {"title": i.title, "body": i.body, "citation": i.citation}
                    for i in sheet.general
                ],
            }
        )
    at = sheet.issued_at.astimezone(zone).strftime("%Y-%m-%d")
    return {
        "issued": words["issued_by"].format(at=at, by=sheet.issued_by),
        "sections": sections,
        "note": sheet.note or "",
    }


def gather(actor: User, client_id: uuid.UUID, *, purpose: str) -> dict[str, Any]:
    """The report's content (without the print block), read for `actor` under `purpose`."""
    words = labels()
    client = get_client(actor, client_id, purpose=purpose)
    institution = Institution.objects.only("id", "code", "name").get(pk=actor.institution_id)
    trends = client_trends(actor, client_id)
    risks = client_risks(actor, client_id)
    sheet = latest_issued_sheet(actor, client_id)
    tags = client_tags(actor, client_id)
    abnormal, charted = _results(trends, words)
    sex = {"M": words["male"], "F": words["female"]}.get(client.sex, client.sex)
    return {
        "v": 1,
        "labels": words,
        "institution": {
            "id": str(institution.id),
            "code": institution.code,
            "name": institution.name,
        },
        "client": {
            "id": str(client.id),
            "name": client.name,
            "sex": sex,
            "age": str(client.age),
            "card_number": client.card_number,
            "document_number": client.document_number,
            "phone": client.phone,
            "masked": client.masked,
        },
        "abnormal": abnormal,
        "trends": charted,
        "risks": [_risk(r, words) for r in risks.risks],
        "advice": _advice(sheet, words),
        "tags": [c.name for c in tags.chips],
        "not_recorded": list(NOT_YET),
    }


def role_label(role: str) -> str:
    try:
        return str(Role(role).label)
    except ValueError:
        return role
