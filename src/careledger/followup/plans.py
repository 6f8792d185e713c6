"""Checking a follow-up plan version as the admin wrote it: trigger, schedule, channel, window,
assignment. Pure (no Django): `clean_plan` takes plain values and returns a `PlanSpec` or raises
`PlanInvalid` naming each bad field, so the page, the API and the demo share one set of rules
and they are tested without a database.

Triggers and their parameters (what `generation` reads; "clears" ends the enrolment):

* tag `{"tag": code}` — an active tag; clears when removed;
* abnormal_result `{"code": LOINC}` — the latest result flagged H/L/HH/LL/A; clears when the
  latest is normal;
* risk_level `{"model": id, "levels": [...]}` — the current level is listed; clears when not;
* enrolment `{"within_days": n}` — enrolled in the last n days;
* checkup `{"within_days": n}` — the latest check-up report is from the last n days; a newer
  one reschedules;
* questionnaire_score `{"instrument": code, "min_score": x}` — latest score ≥ x; clears below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from careledger.followup.schedule import Schedule, ScheduleError

TRIGGERS = ("tag", "abnormal_result", "risk_level", "enrolment", "checkup", "questionnaire_score")
# Triggers that can stop holding (the tag removed, the risk fell): enrolments end then.
CLEARABLE = frozenset({"tag", "abnormal_result", "risk_level", "questionnaire_score"})
CHANNELS = ("phone", "sms", "wechat", "visit")
ROLES = ("nurse", "health_manager", "doctor")


class PlanInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class PlanSpec:
    trigger_kind: str
    trigger_params: dict[str, Any]
    schedule: Schedule
    channel: str
    assignee_role: str
    sla_hours: int
    max_attempts: int
    call_start: dt.time
    call_end: dt.time
    weekdays: tuple[int, ...]
    script: str = ""
    questionnaire_code: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _int(raw: Any, name: str, errors: dict[str, str], low: int, high: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors[name] = "a whole number is needed"
        return low
    if not low <= value <= high:
        errors[name] = f"must be {low}–{high}"
    return value


def _time(raw: Any, name: str, errors: dict[str, str]) -> dt.time:
    if isinstance(raw, dt.time):
        return raw
    try:
        return dt.time.fromisoformat(str(raw))
    except ValueError:
        errors[name] = "a time like 09:00 is needed"
        return dt.time()


def clean_trigger(kind: str, params: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    if kind not in TRIGGERS:
        errors["trigger_kind"] = f"one of {', '.join(TRIGGERS)}"
        return {}
    if kind == "tag":
        tag = str(params.get("tag", "")).strip()
        if not tag:
            errors["trigger_params"] = "name the tag code"
        return {"tag": tag}
    if kind == "abnormal_result":
        code = str(params.get("code", "")).strip()
        if not code:
            errors["trigger_params"] = "name the indicator (LOINC code)"
        return {"code": code}
    if kind == "risk_level":
        model = str(params.get("model", "")).strip()
        levels = params.get("levels") or []
        if isinstance(levels, str):
            levels = [p.strip() for p in levels.split(",")]
        levels = sorted({str(v).strip() for v in levels if str(v).strip()})
        if not model or not levels:
            errors["trigger_params"] = "name the risk model and at least one level"
        return {"model": model, "levels": levels}
    if kind in ("enrolment", "checkup"):
        within = _int(params.get("within_days", 30), "trigger_params", errors, 1, 3650)
        return {"within_days": within}
    instrument = str(params.get("instrument", "")).strip()
    try:
        minimum = float(params.get("min_score", ""))
    except (TypeError, ValueError):
        minimum = 0.0
        errors["trigger_params"] = "give the questionnaire's score code and the minimum score"
    if not instrument:
        errors["trigger_params"] = "give the questionnaire's score code and the minimum score"
    return {"instrument": instrument, "min_score": minimum}


def clean_plan(data: Mapping[str, Any]) -> PlanSpec:
    errors: dict[str, str] = {}
    kind = str(data.get("trigger_kind", ""))
    params = clean_trigger(kind, data.get("trigger_params") or {}, errors)
    schedule = Schedule(
        first_days=_int(data.get("first_days", 7), "first_days", errors, 0, 3650),
        frequency=str(data.get("repeat_frequency", "none") or "none"),
        interval=_int(data.get("repeat_interval", 1) or 1, "repeat_interval", errors, 1, 366),
        count=_int(data.get("repeat_count", 0) or 0, "repeat_count", errors, 0, 119),
    )
    try:
        schedule.check()
    except ScheduleError as exc:
        errors[exc.field] = str(exc)
    channel = str(data.get("channel", ""))
    if channel not in CHANNELS:
        errors["channel"] = f"one of {', '.join(CHANNELS)}"
    role = str(data.get("assignee_role", ""))
    if role not in ROLES:
        errors["assignee_role"] = f"one of {', '.join(ROLES)}"
    start = _time(data.get("call_start", "09:00"), "call_start", errors)
    end = _time(data.get("call_end", "20:00"), "call_end", errors)
    if "call_start" not in errors and "call_end" not in errors and end <= start:
        errors["call_end"] = "the call window must end after it starts"
    raw_days = data.get("weekdays") or [1, 2, 3, 4, 5]
    try:
        weekdays = tuple(sorted({int(d) for d in raw_days}))
    except (TypeError, ValueError):
        weekdays = ()
    if not weekdays or not set(weekdays) <= set(range(1, 8)):
        errors["weekdays"] = "choose at least one weekday (1 = Monday … 7 = Sunday)"
    script = str(data.get("script", "") or "")
    if len(script) > 5000:
        errors["script"] = "at most 5000 characters"
    if channel in ("sms", "wechat") and not script.strip():
        errors["script"] = "a message channel needs the text to send"
    spec = PlanSpec(
        trigger_kind=kind,
        trigger_params=params,
        schedule=schedule,
        channel=channel,
        assignee_role=role,
        sla_hours=_int(data.get("sla_hours", 48), "sla_hours", errors, 1, 24 * 30),
        max_attempts=_int(data.get("max_attempts", 3), "max_attempts", errors, 1, 10),
        call_start=start,
        call_end=end,
        weekdays=weekdays,
        script=script,
        questionnaire_code=str(data.get("questionnaire_code", "") or "").strip(),
    )
    if errors:
        raise PlanInvalid(errors)
    return spec
