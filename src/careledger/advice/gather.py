"""A client's applicability keys, gathered from the apps that produce them.

* `tag:<code>` — the client's active tags (`careledger.tagging`, ClientTag rows with
  active=True);
* `risk:<model>:<level>` — the latest level per risk model
  (`careledger.assessment.facts.latest_risks`), and the latest PHQ-9 / GAD-7 bands
  (`careledger.questionnaires.facts.latest_scores`, instruments "phq9" and "gad7"; PHQ-9 item 9
  answered above "not at all" — instrument "phq9_item9", band "positive" — adds
  `risk:phq9:item9_positive`);
* `constitution:<code>` — every TCM constitution judged yes, basically yes or tendency on the
  latest constitution questionnaire (`latest_scores`, instruments "tcm:<code>").

Each source is imported lazily: an app that is not there (yet) contributes no keys and is
reported as unavailable in `ClientKeys.sources`, never faked. This module is internal: callers
(the advice selectors and services) have already asked the access policy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from careledger.advice import keys as K

AVAILABLE = "available"
UNAVAILABLE = "unavailable"
CONSTITUTION_BANDS = {"yes", "basically_yes", "tendency"}
SCREENS = {"phq9", "gad7"}


@dataclass(frozen=True)
class ClientKeys:
    keys: frozenset[str]
    sources: dict[str, str]  # "tags" / "risks" / "scores" -> available / unavailable
    details: dict[str, str] = field(default_factory=dict)  # key -> what it rests on (band etc.)


def _tag_keys(client_id: uuid.UUID) -> set[str] | None:
    try:
        from careledger.tagging.models import ClientTag
    except ImportError:
        return None
    codes = ClientTag.objects.filter(
        client_id=client_id, active=True, tag__is_active=True
    ).values_list("tag__code", flat=True)
    return {K.tag(code) for code in codes}


def tag_names(institution_id: uuid.UUID) -> dict[str, tuple[str, str]]:
    """The institution's own names of its tags (code -> (Chinese, English)), which the reasons
    prefer to the vocabulary's; empty when the tagging app is not there."""
    try:
        from careledger.tagging.models import TagDefinition
    except ImportError:
        return {}
    rows = TagDefinition.objects.filter(institution_id=institution_id).values_list(
        "code", "name_zh", "name_en"
    )
    return {code.lower(): (zh, en or zh) for code, zh, en in rows}


def _frame_rows(frame: Any) -> list[dict[str, Any]]:
    return list(frame.iter_rows(named=True)) if frame is not None else []


def _risk_keys(institution_id: uuid.UUID, client_id: uuid.UUID) -> set[str] | None:
    try:
        from careledger.assessment.facts import latest_risks  # type: ignore[import-not-found]
    except ImportError:
        return None
    frame = latest_risks(institution_id=institution_id, client_ids=[str(client_id)])
    out = set()
    for row in _frame_rows(frame):
        if row.get("level"):
            out.add(K.risk(str(row["model"]), str(row["level"])))
    return out


def _score_keys(
    institution_id: uuid.UUID, client_id: uuid.UUID
) -> tuple[set[str], dict[str, str]] | None:
    try:
        from careledger.questionnaires.facts import latest_scores  # type: ignore[import-not-found]
    except ImportError:
        return None
    frame = latest_scores(institution_id=institution_id, client_ids=[str(client_id)])
    out: set[str] = set()
    details: dict[str, str] = {}
    for row in _frame_rows(frame):
        instrument = str(row.get("instrument") or "").lower()
        band = str(row.get("band") or "").lower()
        if not band:
            continue
        if instrument in SCREENS:
            out.add(K.risk(instrument, band))
        elif instrument.startswith("tcm:") and band in CONSTITUTION_BANDS:
            code = instrument.removeprefix("tcm:")
            if code == "pinghe" and band == "tendency":  # the standard has no 倾向是 for 平和质
                continue
            key = K.constitution(code)
            out.add(key)
            details[key] = band
        elif instrument == "phq9_item9" and band == "positive":
            out.add(K.risk("phq9", "item9_positive"))
    return out, details


def client_keys(client_id: uuid.UUID, institution_id: uuid.UUID) -> ClientKeys:
    """Every key the client has now, and which sources could be read."""
    found: set[str] = set()
    sources: dict[str, str] = {}
    details: dict[str, str] = {}
    tags = _tag_keys(client_id)
    sources["tags"] = UNAVAILABLE if tags is None else AVAILABLE
    found |= tags or set()
    risks = _risk_keys(institution_id, client_id)
    sources["risks"] = UNAVAILABLE if risks is None else AVAILABLE
    found |= risks or set()
    scores = _score_keys(institution_id, client_id)
    sources["scores"] = UNAVAILABLE if scores is None else AVAILABLE
    if scores is not None:
        found |= scores[0]
        details = scores[1]
    return ClientKeys(frozenset(found), sources, details)
