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
    tag_names: dict[str, str] = field(default_factory=dict)  # institution tag code -> name
    details: dict[str, str] = field(default_factory=dict)  # key -> what it rests on (band etc.)


def _tag_keys(client_id: uuid.UUID) -> tuple[set[str], dict[str, str]] | None:
    try:
        from careledger.tagging.models import ClientTag  # type: ignore[attr-defined]
    except ImportError:
        return None
    rows = ClientTag.objects.filter(
        client_id=client_id, active=True, tag__is_active=True
    ).select_related("tag")
    found: set[str] = set()
    names: dict[str, str] = {}
    for row in rows:
        code = str(row.tag.code).lower()
        found.add(K.tag(code))
        name = getattr(row.tag, "name_zh", "") or getattr(row.tag, "name", "")
        if name:
            names[code] = str(name)
    return found, names


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
    tag_names: dict[str, str] = {}
    details: dict[str, str] = {}
    tags = _tag_keys(client_id)
    sources["tags"] = UNAVAILABLE if tags is None else AVAILABLE
    if tags is not None:
        found |= tags[0]
        tag_names = tags[1]
    risks = _risk_keys(institution_id, client_id)
    sources["risks"] = UNAVAILABLE if risks is None else AVAILABLE
    found |= risks or set()
    scores = _score_keys(institution_id, client_id)
    sources["scores"] = UNAVAILABLE if scores is None else AVAILABLE
    if scores is not None:
        found |= scores[0]
        details = scores[1]
    return ClientKeys(frozenset(found), sources, tag_names, details)
