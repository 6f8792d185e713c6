"""FHIR R4 JSON → `ParsedReport`s: a Bundle (collection, transaction, batch, searchset, any
type) or a lone DiagnosticReport / Observation.

Validation: every Patient, DiagnosticReport, Observation and Organization entry is validated on
its own with the fhir.resources R4B models (R4B is wire-compatible with R4 for these resources),
so one bad entry costs that entry, not the bundle: INVALID_RESOURCE naming the entry and the
field path pydantic reports (never the offending value). Other resource types (Practitioner,
ServiceRequest, Specimen, …) are carried along unvalidated and unused.

Reports:

* each DiagnosticReport is one report; its `result` references resolve to Observations by the
  FHIR bundle rules: "urn:uuid:…" and absolute URLs against entry fullUrls, relative
  "Observation/x" against the fullUrl base of the referring entry, then any entry of that type
  and id, "#x" against the report's `contained`. An unresolvable reference is a NO_VALUE problem
  naming it; the report still comes through with what did resolve.
* Observations no DiagnosticReport refers to are grouped into one report per subject and
  effective date (report id "").
* An Observation with components (blood pressure 85354-9 → 8480-6 systolic, 8462-4 diastolic)
  gives one result per component that has a value, plus its own value if it has one.

Patient (DiagnosticReport.subject, else the first Observation's subject; a reference to a
Patient in the bundle, or a logical `subject.identifier`): identifiers become candidates for
`common.pick_ids`: system urn:oid:2.16.156.10011.1.3 (resident ID card), or a type code NI /
RESIDENT / …, or any value that is a valid GB 11643 number → ID number; a system listed in
`card_systems`, or type MB / MR / PI → card number. Name, gender, birthDate as written.

Results: code = the LOINC coding when there is one (coding_system "http://loinc.org"), else the
first coding (coding_system ""), else code.text as the local code; valueQuantity → value with
its comparator ("<0.1") and unit (unit, else code); valueString, valueCodeableConcept (text,
else display, else code), valueInteger, valueBoolean, valueRange, valueRatio; referenceRange
text, else low-high; interpretation code (H, L, HH, LL, A, N, …). Status final/amended/corrected
/preliminary pass through ("amended" → "corrected"); cancelled / entered-in-error → CANCELLED
problem; registered (no result yet) → NO_VALUE problem.

Memory: the bundle text is walked entry by entry with the json module's raw decoder, narratives
(`text.div`) are dropped as soon as an entry is read, and resource types that carry nothing for
an import are not kept.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pydantic
from fhir.resources.R4B import get_fhir_model_class

from careledger.exams.parsers import common
from careledger.exams.parsers.decoding import decode
from careledger.exams.parsers.types import (
    FileUnreadable,
    ParsedReport,
    ParsedResult,
    ParseOutcome,
    ParseProblem,
    PatientIds,
    Reason,
)

LOINC = "http://loinc.org"
# 中华人民共和国居民身份证 (WS 363 / the national health information OID tree).
RESIDENT_ID_SYSTEMS = frozenset({"urn:oid:2.16.156.10011.1.3"})
ID_TYPE_CODES = frozenset({"NI", "RESIDENT", "NNCHN", "CZ", "SFZ", "IDCARD", "身份证"})
CARD_TYPE_CODES = ("MB", "MR", "PI")
_VALIDATED = ("Patient", "DiagnosticReport", "Observation", "Organization")
_KEPT = frozenset(_VALIDATED)
_STATUS = {
    "final": "final",
    "amended": "corrected",
    "corrected": "corrected",
    "appended": "corrected",
    "preliminary": "preliminary",
    "partial": "preliminary",
    "unknown": "final",
}
_CANCELLED = frozenset({"cancelled", "entered-in-error"})
_PENDING = frozenset({"registered"})
_BUNDLE_MAX_DEPTH = 64


@dataclass
class _Entry:
    number: int  # 1-based position in the bundle (0 for a lone resource)
    full_url: str
    resource: dict[str, Any]
    valid: bool = True

    @property
    def where(self) -> str:
        return f"entry {self.number}" if self.number else "resource"

    @property
    def rtype(self) -> str:
        return str(self.resource.get("resourceType", ""))

    @property
    def rid(self) -> str:
        value = self.resource.get("id")
        return value if isinstance(value, str) else ""


@dataclass
class _State:
    now: dt.datetime
    card_systems: frozenset[str]
    problems: list[ParseProblem] = field(default_factory=list)
    reports: list[ParsedReport] = field(default_factory=list)
    invalid: dict[int, int] = field(default_factory=dict)  # entry number → its problem's index


def parse_fhir(
    data: bytes, *, now: dt.datetime, card_systems: frozenset[str] | tuple[str, ...] = ()
) -> ParseOutcome:
    text, encoding = decode(data)
    state = _State(now=now, card_systems=frozenset(card_systems))
    entries, units = _read(text, state)
    _build(entries, state)
    return ParseOutcome(
        reports=state.reports, problems=state.problems, encoding=encoding, units_read=units
    )


# --------------------------------------------------------------------------------------------
# Reading the JSON, entry by entry
# --------------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")


class _Scanner:
    """Walks a top-level JSON object key by key, without building the whole tree."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.decoder = json.JSONDecoder(parse_float=Decimal)
        self.pos = 0

    def skip(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def expect(self, ch: str) -> None:
        self.skip()
        if self.text[self.pos : self.pos + 1] != ch:
            raise ValueError(f"expected {ch!r} at character {self.pos}")
        self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos : self.pos + 1]

    def value(self) -> Any:
        self.skip()
        value, self.pos = self.decoder.raw_decode(self.text, self.pos)
        return value

    def members(self) -> Iterator[str]:
        """Yields each key; the caller must consume its value (value() or array())."""
        self.expect("{")
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise ValueError(f"object key expected at character {self.pos}")
            self.expect(":")
            yield key
            nxt = self.peek()
            self.pos += 1
            if nxt == "}":
                return
            if nxt != ",":
                raise ValueError(f"expected ',' or '}}' at character {self.pos - 1}")

    def array(self) -> Iterator[Any]:
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            nxt = self.peek()
            self.pos += 1
            if nxt == "]":
                return
            if nxt != ",":
                raise ValueError(f"expected ',' or ']' at character {self.pos - 1}")


def _read(text: str, state: _State) -> tuple[list[_Entry], int]:
    body = text.lstrip("\ufeff \t\r\n")
    if not body.startswith("{"):
        raise FileUnreadable(Reason.UNREADABLE, "not a FHIR JSON resource (no JSON object)")
    scanner = _Scanner(body)
    top: dict[str, Any] = {}
    entries: list[_Entry] = []
    seen_entry_list = False
    try:
        for key in scanner.members():
            if key == "entry" and scanner.peek() == "[":
                seen_entry_list = True
                for number, raw in enumerate(scanner.array(), start=1):
                    entry = _entry(number, raw, state)
                    if entry is not None:
                        entries.append(entry)
            else:
                top[key] = scanner.value()
        scanner.skip()
        if scanner.pos != len(body):
            raise ValueError(f"extra data after the JSON object at character {scanner.pos}")
    except json.JSONDecodeError as exc:
        raise FileUnreadable(
            Reason.UNREADABLE, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise FileUnreadable(Reason.UNREADABLE, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise FileUnreadable(Reason.UNREADABLE, "not valid JSON: nested too deeply") from None
    rtype = top.get("resourceType")
    if rtype == "Bundle":
        if not seen_entry_list and "entry" in top:
            raise FileUnreadable(Reason.UNREADABLE, "Bundle.entry is not a list")
        return entries, len(entries)
    if entries or seen_entry_list:
        raise FileUnreadable(
            Reason.UNREADABLE, f"an 'entry' list in a {rtype or 'non-FHIR'} object, not a Bundle"
        )
    if rtype in ("DiagnosticReport", "Observation"):
        entry = _entry(0, {"resource": top}, state)
        return ([entry] if entry is not None else []), 1
    if not isinstance(rtype, str) or not rtype:
        raise FileUnreadable(Reason.UNREADABLE, "JSON without a FHIR resourceType")
    raise FileUnreadable(
        Reason.UNREADABLE,
        f"a lone FHIR {rtype[:40]} carries no results (Bundle, DiagnosticReport or Observation "
        "expected)",
    )


def _entry(number: int, raw: Any, state: _State) -> _Entry | None:
    where = f"entry {number}" if number else "resource"
    if not isinstance(raw, dict):
        state.problems.append(
            ParseProblem(where, "entry", Reason.INVALID_RESOURCE, "bundle entry is not an object")
        )
        return None
    request = raw.get("request")
    if isinstance(request, dict) and str(request.get("method", "")).upper() == "DELETE":
        return None
    resource = raw.get("resource")
    if resource is None:
        return None  # a transaction-response entry, a search outcome without resource
    if not isinstance(resource, dict):
        state.problems.append(
            ParseProblem(
                where, "resource", Reason.INVALID_RESOURCE, "entry resource is not an object"
            )
        )
        return None
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        state.problems.append(
            ParseProblem(
                where, "resourceType", Reason.INVALID_RESOURCE, "resource has no resourceType"
            )
        )
        return None
    if rtype not in _KEPT:
        return None
    _drop_narratives(resource)
    full_url = raw.get("fullUrl") if isinstance(raw.get("fullUrl"), str) else ""
    entry = _Entry(number, full_url, resource)
    entry.valid = _validate(entry, state)
    if not entry.valid:
        state.invalid[number] = len(state.problems) - 1
    return entry


def _list(value: Any) -> list[Any]:
    """A JSON array as a list; anything else (a fuzzed or broken file) as empty."""
    return value if isinstance(value, list) else []


def _drop_narratives(resource: dict[str, Any]) -> None:
    resource.pop("text", None)
    for contained in _list(resource.get("contained")):
        if isinstance(contained, dict):
            contained.pop("text", None)


def _validate(entry: _Entry, state: _State) -> bool:
    resource = entry.resource
    contained = resource.get("contained")
    if isinstance(contained, list) and any(
        isinstance(c, dict) and c.get("resourceType") == "Observation" for c in contained
    ):
        # Contained Observations are validated one by one where their report uses them, so a
        # bad one costs that result, not the report.
        resource = {
            **resource,
            "contained": [
                c
                for c in contained
                if not (isinstance(c, dict) and c.get("resourceType") == "Observation")
            ],
        }
        if not resource["contained"]:
            del resource["contained"]
    try:
        model = get_fhir_model_class(entry.rtype)
        model.model_validate(resource)
    except pydantic.ValidationError as exc:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid", "type": "invalid"}
        path = _path(entry.rtype, first.get("loc", ()))
        # The message of a Patient error could echo an identifier or a name: type only.
        detail = first.get("type", "invalid")
        if entry.rtype != "Patient":
            detail = str(first.get("msg", detail)).split("[")[0].strip()[:120]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        state.problems.append(
            ParseProblem(
                entry.where,
                path,
                Reason.INVALID_RESOURCE,
                f"{entry.rtype} fails FHIR R4 validation at {path}: {detail}{more}",
            )
        )
        return False
    except (ValueError, TypeError, RecursionError) as exc:
        state.problems.append(
            ParseProblem(
                entry.where,
                entry.rtype,
                Reason.INVALID_RESOURCE,
                f"{entry.rtype} cannot be validated ({type(exc).__name__})",
            )
        )
        return False
    return True


def _path(rtype: str, loc: tuple[Any, ...]) -> str:
    out = rtype
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}"
    return out


# --------------------------------------------------------------------------------------------
# Resolving references
# --------------------------------------------------------------------------------------------


class _Index:
    def __init__(self, entries: list[_Entry]) -> None:
        self.by_url: dict[str, _Entry] = {}
        self.by_type_id: dict[tuple[str, str], _Entry] = {}
        for e in entries:
            if e.full_url:
                self.by_url.setdefault(e.full_url, e)
            if e.rid:
                self.by_type_id.setdefault((e.rtype, e.rid), e)

    def resolve(
        self, reference: str, referrer: _Entry, container: dict[str, Any] | None = None
    ) -> dict[str, Any] | _Entry | None:
        """A contained resource (dict) for "#x", else the entry, else None."""
        if not reference:
            return None
        if reference.startswith("#"):
            for contained in _list((container or referrer.resource).get("contained")):
                if isinstance(contained, dict) and contained.get("id") == reference[1:]:
                    return contained
            return None
        ref = re.sub(r"/_history/[^/]+$", "", reference)
        if ref in self.by_url:
            return self.by_url[ref]
        match = re.search(r"([A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$", ref)
        if not match:
            return None
        if "://" not in ref and referrer.full_url and "://" in referrer.full_url:
            base = re.sub(r"[A-Za-z]+/[A-Za-z0-9\-.]{1,64}$", "", referrer.full_url)
            if base + ref in self.by_url:
                return self.by_url[base + ref]
        return self.by_type_id.get((match.group(1), match.group(2)))


# --------------------------------------------------------------------------------------------
# Building reports
# --------------------------------------------------------------------------------------------


def _build(entries: list[_Entry], state: _State) -> None:
    index = _Index(entries)
    reports = [e for e in entries if e.rtype == "DiagnosticReport"]
    claimed: set[int] = set()  # id() of observation dicts a report refers to
    for dr in reports:
        for ref in _refs(dr.resource.get("result")):
            target = index.resolve(ref, dr)
            target_res = target.resource if isinstance(target, _Entry) else target
            if isinstance(target_res, dict):
                claimed.add(id(target_res))
    for dr in reports:
        if not dr.valid:
            continue  # its INVALID_RESOURCE problem stands for the whole report
        _report_from_dr(dr, index, state)
    groups: OrderedDict[tuple[str, str], list[_Entry]] = OrderedDict()
    for obs in entries:
        if obs.rtype != "Observation" or id(obs.resource) in claimed or not obs.valid:
            continue
        subject = _ref_text(obs.resource.get("subject"))
        when = _effective_raw(obs.resource)
        key = (subject, when[:10])
        groups.setdefault(key, []).append(obs)
    for members in groups.values():
        _report_from_observations(members, index, state)


def _refs(value: Any) -> list[str]:
    out = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and isinstance(item.get("reference"), str):
            out.append(item["reference"])
    return out


def _ref_text(value: Any) -> str:
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            return value["reference"]
        ident = value.get("identifier")
        if isinstance(ident, dict):
            return f"{ident.get('system', '')}|{ident.get('value', '')}"
    return ""


def _effective_raw(resource: dict[str, Any]) -> str:
    for key in ("effectiveDateTime", "effectiveInstant"):
        if isinstance(resource.get(key), str):
            return resource[key]
    period = resource.get("effectivePeriod")
    if isinstance(period, dict):
        for key in ("start", "end"):
            if isinstance(period.get(key), str):
                return period[key]
    if isinstance(resource.get("issued"), str):
        return resource["issued"]
    return ""


def _effective_field(resource: dict[str, Any]) -> str:
    for key in ("effectiveDateTime", "effectiveInstant"):
        if key in resource:
            return key
    if "effectivePeriod" in resource:
        return "effectivePeriod.start"
    return "issued"


def parse_fhir_datetime(text: str) -> dt.datetime:
    """FHIR dateTime/instant with at least day precision; no zone → Asia/Shanghai."""
    raw = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", raw):
        raise ValueError(f"needs at least a day (YYYY-MM-DD), got {len(raw)} characters")
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("not an ISO 8601 date-time") from None
    return common.aware(value)


def _patient(
    subject: Any, referrer: _Entry, index: _Index, state: _State, where: str
) -> PatientIds | ParseProblem:
    today = common.aware(state.now).date()
    candidates: list[common.Candidate] = []
    name = sex = ""
    birth = None
    if isinstance(subject, dict):
        ident = subject.get("identifier")
        if isinstance(ident, dict):
            candidates.append(_candidate(ident, "subject.identifier", state))
        ref = subject.get("reference")
        target = index.resolve(ref, referrer) if isinstance(ref, str) else None
        patient = target.resource if isinstance(target, _Entry) else target
        if isinstance(patient, dict) and patient.get("resourceType") == "Patient":
            if isinstance(target, _Entry) and not target.valid:
                return ParseProblem(
                    where,
                    "subject",
                    Reason.NO_PATIENT_ID,
                    f"the subject Patient ({target.where}) failed validation",
                )
            for i, item in enumerate(_list(patient.get("identifier"))):
                if isinstance(item, dict):
                    candidates.append(_candidate(item, f"Patient.identifier[{i}]", state))
            name = _human_name(patient.get("name"))
            sex = common.normalise_sex(str(patient.get("gender") or ""))
            if isinstance(patient.get("birthDate"), str):
                try:
                    birth = dt.date.fromisoformat(patient["birthDate"])
                except ValueError:
                    birth = None
        elif isinstance(ref, str) and not candidates:
            return ParseProblem(
                where,
                "subject",
                Reason.NO_PATIENT_ID,
                f"subject {_safe_ref(ref)} is not in the bundle and carries no identifier",
            )
    picked = common.pick_ids(candidates, today=today, card_types=CARD_TYPE_CODES)
    if not picked.id_number and not picked.card_number:
        if picked.bad_id_where:
            return ParseProblem(
                where,
                picked.bad_id_where,
                Reason.BAD_PATIENT_ID,
                f"{picked.bad_id_where} is not a valid GB 11643 number ({picked.bad_id_why}) "
                "and there is no card number",
            )
        return ParseProblem(
            where,
            "subject",
            Reason.NO_PATIENT_ID,
            "the subject has neither a resident ID number nor a card number identifier",
        )
    ids = PatientIds(
        id_number=picked.id_number,
        card_number=picked.card_number,
        name=name,
        sex=sex,
        birth_date=birth,
    )
    if picked.bad_id_where:
        state.problems.append(
            ParseProblem(
                where,
                picked.bad_id_where,
                Reason.BAD_PATIENT_ID,
                f"{picked.bad_id_where} is not a valid GB 11643 number ({picked.bad_id_why}); "
                "ignored, the report is matched by its card number",
                len(state.reports),
                warning=True,
            )
        )
    return ids


def _safe_ref(ref: str) -> str:
    """A reference as shown in a message: resource type and a short id, nothing else."""
    match = re.search(r"([A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$", ref)
    if match:
        return f"{match.group(1)}/{match.group(2)[:40]}"
    return "urn:uuid:…" if ref.startswith("urn:") else "(reference)"


def _candidate(ident: dict[str, Any], where: str, state: _State) -> common.Candidate:
    value = str(ident.get("value") or "")
    system = str(ident.get("system") or "")
    codes: list[str] = []
    type_ = ident.get("type")
    if isinstance(type_, dict):
        for coding in _list(type_.get("coding")):
            if isinstance(coding, dict) and coding.get("code"):
                codes.append(str(coding["code"]).upper())
        if isinstance(type_.get("text"), str):
            codes.append(type_["text"].strip().upper())
    if system in RESIDENT_ID_SYSTEMS or any(c in ID_TYPE_CODES for c in codes):
        type_code = "NI"
    elif system in state.card_systems:
        type_code = "MB"
    else:
        type_code = next((c for c in codes if c in CARD_TYPE_CODES), "")
    return common.Candidate(value, type_code, where)


def _human_name(names: Any) -> str:
    for name in names if isinstance(names, list) else []:
        if not isinstance(name, dict):
            continue
        if isinstance(name.get("text"), str) and name["text"].strip():
            return name["text"].strip()
        given = " ".join(g for g in _list(name.get("given")) if isinstance(g, str))
        family = name.get("family") if isinstance(name.get("family"), str) else ""
        joined = common.join_name(family, given)
        if joined:
            return joined
    return ""


def _report_from_dr(dr: _Entry, index: _Index, state: _State) -> None:
    res = dr.resource
    where = dr.where
    status = str(res.get("status") or "")
    if status in _CANCELLED:
        state.problems.append(
            ParseProblem(
                where, "status", Reason.CANCELLED, f"DiagnosticReport status {status}; skipped"
            )
        )
        return
    if status in _PENDING:
        state.problems.append(
            ParseProblem(
                where, "status", Reason.NO_VALUE, f"DiagnosticReport status {status}: no results"
            )
        )
        return
    results: list[ParsedResult] = []
    result_problems: list[ParseProblem] = []
    observations: list[dict[str, Any]] = []
    invalid_results: list[int] = []
    for i, ref in enumerate(_refs(res.get("result"))):
        target = index.resolve(ref, dr)
        loc = f"{where}, result[{i}]"
        if isinstance(target, _Entry):
            if not target.valid:
                # Reported as INVALID_RESOURCE on its own entry; tied to this report below.
                if target.number in state.invalid:
                    invalid_results.append(state.invalid[target.number])
                continue
            obs, obs_where = target.resource, target.where
        elif isinstance(target, dict):
            obs, obs_where = target, f"{where}, contained #{str(target.get('id'))[:40]}"
        else:
            result_problems.append(
                ParseProblem(
                    loc,
                    f"result[{i}]",
                    Reason.NO_VALUE,
                    f"DiagnosticReport.result[{i}] refers to {_safe_ref(ref)}, which is not in "
                    "the bundle",
                )
            )
            continue
        if isinstance(target, dict) and obs.get("resourceType") == "Observation":
            # A contained Observation is validated here, where its report is known.
            scratch = _State(state.now, frozenset())
            if not _validate(_Entry(dr.number, "", obs), scratch):
                result_problems.extend(
                    ParseProblem(obs_where, p.field, p.reason, p.message) for p in scratch.problems
                )
                continue
        if obs.get("resourceType") != "Observation" or any(o is obs for o in observations):
            continue
        observations.append(obs)
        got, probs = _results(obs, obs_where)
        results.extend(got)
        result_problems.extend(probs)

    effective_raw = _effective_raw(res) or next(
        (_effective_raw(o) for o in observations if _effective_raw(o)), ""
    )
    effective_field = _effective_field(res) if _effective_raw(res) else "effectiveDateTime"
    when_or_problem = _report_time(effective_raw, effective_field, where, state)
    if isinstance(when_or_problem, ParseProblem):
        state.problems.extend(result_problems)
        state.problems.append(when_or_problem)
        return
    subject = res.get("subject") or next(
        (o.get("subject") for o in observations if o.get("subject")), None
    )
    patient = _patient(subject, dr, index, state, where)
    if isinstance(patient, ParseProblem):
        state.problems.extend(result_problems)
        state.problems.append(patient)
        return
    if not results:
        state.problems.extend(result_problems)
        state.problems.append(
            ParseProblem(
                where, "result", Reason.NO_VALUE, "DiagnosticReport has no readable result"
            )
        )
        return
    index_no = len(state.reports)
    for p in result_problems:
        state.problems.append(ParseProblem(p.location, p.field, p.reason, p.message, index_no))
    for k in invalid_results:
        p = state.problems[k]
        state.problems[k] = ParseProblem(p.location, p.field, p.reason, p.message, index_no)
    state.reports.append(
        ParsedReport(
            index=index_no,
            location=where,
            patient=patient,
            source_report_id=_report_id(dr),
            effective_at=when_or_problem,
            results=results,
            status=_STATUS.get(status, "final"),
            sending_facility=_performer(res, dr, index),
            note=str(res.get("conclusion") or "").strip(),
        )
    )


def _report_time(raw: str, fld: str, where: str, state: _State) -> dt.datetime | ParseProblem:
    if not raw:
        return ParseProblem(
            where, "effectiveDateTime", Reason.NO_DATE, "no effective time nor issued time"
        )
    try:
        when = parse_fhir_datetime(raw)
    except ValueError as exc:
        return ParseProblem(where, fld, Reason.BAD_DATE, f"{fld}: {exc}")
    if common.is_future(when, state.now):
        return ParseProblem(
            where, fld, Reason.FUTURE_DATE, f"{fld} {when:%Y-%m-%d %H:%M} is in the future"
        )
    return when


def _report_id(entry: _Entry) -> str:
    identifiers = [i for i in _list(entry.resource.get("identifier")) if isinstance(i, dict)]
    identifiers.sort(key=lambda i: 0 if i.get("use") in ("official", "usual") else 1)
    for ident in identifiers:
        if isinstance(ident.get("value"), str) and ident["value"].strip():
            return ident["value"].strip()
    if entry.rid and not entry.full_url.startswith("urn:"):
        return f"{entry.rtype}/{entry.rid}"
    return ""


def _performer(res: dict[str, Any], entry: _Entry, index: _Index) -> str:
    for ref in _list(res.get("performer")):
        if not isinstance(ref, dict):
            continue
        target = index.resolve(str(ref.get("reference") or ""), entry)
        org = target.resource if isinstance(target, _Entry) else target
        is_org = isinstance(org, dict) and org.get("resourceType") == "Organization"
        if is_org and isinstance(org.get("name"), str):
            return org["name"]
        if isinstance(ref.get("display"), str):
            return ref["display"]
    return ""


def _report_from_observations(members: list[_Entry], index: _Index, state: _State) -> None:
    first = members[0]
    where = (
        first.where if len(members) == 1 else f"entries {members[0].number}-{members[-1].number}"
    )
    if first.number == 0:
        where = "resource"
    results: list[ParsedResult] = []
    result_problems: list[ParseProblem] = []
    for obs in members:
        got, probs = _results(obs.resource, obs.where)
        results.extend(got)
        result_problems.extend(probs)
    raw = _effective_raw(first.resource)
    when = _report_time(raw, _effective_field(first.resource), where, state)
    if isinstance(when, ParseProblem):
        state.problems.extend(result_problems)
        state.problems.append(when)
        return
    patient = _patient(first.resource.get("subject"), first, index, state, where)
    if isinstance(patient, ParseProblem):
        state.problems.extend(result_problems)
        state.problems.append(patient)
        return
    if not results:
        state.problems.extend(result_problems)
        return
    index_no = len(state.reports)
    for p in result_problems:
        state.problems.append(ParseProblem(p.location, p.field, p.reason, p.message, index_no))
    statuses = {r.status for r in results}
    state.reports.append(
        ParsedReport(
            index=index_no,
            location=where,
            patient=patient,
            source_report_id="",
            effective_at=when,
            results=results,
            status="corrected" if "corrected" in statuses else "final",
            sending_facility=_performer(first.resource, first, index),
        )
    )


# --------------------------------------------------------------------------------------------
# Observation → results
# --------------------------------------------------------------------------------------------


def _results(obs: dict[str, Any], where: str) -> tuple[list[ParsedResult], list[ParseProblem]]:
    status = str(obs.get("status") or "")
    if status in _CANCELLED:
        return [], [
            ParseProblem(where, "status", Reason.CANCELLED, f"Observation status {status}; skipped")
        ]
    if status in _PENDING:
        return [], [
            ParseProblem(
                where, "status", Reason.NO_VALUE, f"Observation status {status}: no result yet"
            )
        ]
    status_out = _STATUS.get(status, "final")
    effective = None
    raw = _effective_raw(obs)
    if raw:
        try:
            effective = parse_fhir_datetime(raw)
        except ValueError:
            effective = None
    note = "\n".join(
        n["text"].strip()
        for n in _list(obs.get("note"))
        if isinstance(n, dict) and isinstance(n.get("text"), str) and n["text"].strip()
    )
    results: list[ParsedResult] = []
    problems: list[ParseProblem] = []
    components = [c for c in _list(obs.get("component")) if isinstance(c, dict)]
    has_own_value = any(k.startswith("value") for k in obs) or "dataAbsentReason" in obs
    if has_own_value or not components:
        got = _one_result(obs, where, "", status_out, effective, note, obs.get("referenceRange"))
        if isinstance(got, ParsedResult):
            results.append(got)
        else:
            problems.append(got)
    for i, comp in enumerate(components):
        got = _one_result(
            comp,
            f"{where}, component[{i}]",
            f"component[{i}].",
            status_out,
            effective,
            note,
            comp.get("referenceRange"),
        )
        if isinstance(got, ParsedResult):
            results.append(got)
        else:
            problems.append(got)
    return results, problems


def _one_result(
    element: dict[str, Any],
    where: str,
    prefix: str,
    status: str,
    effective: dt.datetime | None,
    note: str,
    ranges: Any,
) -> ParsedResult | ParseProblem:
    code, name, system = _code(element.get("code"))
    if not code:
        return ParseProblem(
            where, f"{prefix}code", Reason.NO_CODE, f"{prefix}code has no coding nor text"
        )
    value, unit, fld = _value(element)
    if fld == "dataAbsentReason" or not value:
        why = ""
        absent = element.get("dataAbsentReason")
        if isinstance(absent, dict):
            why = _concept_text(absent)
        return ParseProblem(
            where,
            f"{prefix}value[x]",
            Reason.NO_VALUE,
            f"{prefix}value[x] is absent" + (f" ({why[:60]})" if why else ""),
        )
    return ParsedResult(
        location=where,
        local_code=code,
        local_name=name,
        coding_system=system,
        value=value,
        unit=unit,
        reference_range=_range(ranges),
        flag=_interpretation(element.get("interpretation")),
        status=status,
        effective_at=effective,
        note=note if not prefix else "",
    )


def _code(concept: Any) -> tuple[str, str, str]:
    if not isinstance(concept, dict):
        return "", "", ""
    codings = [c for c in _list(concept.get("coding")) if isinstance(c, dict) and c.get("code")]
    text = concept.get("text") if isinstance(concept.get("text"), str) else ""
    # The name the source shows its users: code.text, else the coding's display.
    for coding in codings:
        if coding.get("system") == LOINC:
            return str(coding["code"]), str(text or coding.get("display") or ""), LOINC
    if codings:
        coding = codings[0]
        return str(coding["code"]), str(text or coding.get("display") or ""), ""
    if text.strip():
        return text.strip(), text.strip(), ""
    return "", "", ""


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        text = str(value)
        if "E" in text or "e" in text:
            text = format(value, "f")
        return text
    if isinstance(value, float):
        return repr(value)
    return str(value) if value is not None else ""


def _quantity(q: Any) -> tuple[str, str]:
    if not isinstance(q, dict) or "value" not in q:
        return "", ""
    comparator = q.get("comparator") if isinstance(q.get("comparator"), str) else ""
    unit = q.get("unit") if isinstance(q.get("unit"), str) else ""
    if not unit and isinstance(q.get("code"), str):
        unit = q["code"]
    return f"{comparator}{_number(q['value'])}", unit


def _concept_text(concept: dict[str, Any]) -> str:
    if isinstance(concept.get("text"), str) and concept["text"].strip():
        return concept["text"].strip()
    for coding in _list(concept.get("coding")):
        if isinstance(coding, dict):
            if coding.get("display"):
                return str(coding["display"])
            if coding.get("code"):
                return str(coding["code"])
    return ""


def _value(element: dict[str, Any]) -> tuple[str, str, str]:
    if "valueQuantity" in element:
        value, unit = _quantity(element["valueQuantity"])
        return value, unit, "valueQuantity"
    if isinstance(element.get("valueString"), str):
        return element["valueString"].strip(), "", "valueString"
    if isinstance(element.get("valueCodeableConcept"), dict):
        return _concept_text(element["valueCodeableConcept"]), "", "valueCodeableConcept"
    if "valueInteger" in element:
        return _number(element["valueInteger"]), "", "valueInteger"
    if "valueBoolean" in element:
        return _number(element["valueBoolean"]), "", "valueBoolean"
    if isinstance(element.get("valueRange"), dict):
        low, unit = _quantity(element["valueRange"].get("low"))
        high, unit_h = _quantity(element["valueRange"].get("high"))
        return (f"{low}-{high}" if low and high else low or high), unit or unit_h, "valueRange"
    if isinstance(element.get("valueRatio"), dict):
        num, _ = _quantity(element["valueRatio"].get("numerator"))
        den, _ = _quantity(element["valueRatio"].get("denominator"))
        return (f"{num}:{den}" if num and den else ""), "", "valueRatio"
    if isinstance(element.get("valueDateTime"), str):
        return element["valueDateTime"], "", "valueDateTime"
    if "dataAbsentReason" in element:
        return "", "", "dataAbsentReason"
    return "", "", ""


def _range(ranges: Any) -> str:
    for rng in ranges if isinstance(ranges, list) else []:
        if not isinstance(rng, dict):
            continue
        if isinstance(rng.get("text"), str) and rng["text"].strip():
            return rng["text"].strip()
        low, _ = _quantity(rng.get("low"))
        high, _ = _quantity(rng.get("high"))
        if low and high:
            return f"{low}-{high}"
        if high:
            return f"<{high}" if not high.startswith(("<", ">")) else high
        if low:
            return f">{low}" if not low.startswith(("<", ">")) else low
    return ""


def _interpretation(value: Any) -> str:
    for concept in value if isinstance(value, list) else []:
        if not isinstance(concept, dict):
            continue
        for coding in _list(concept.get("coding")):
            if isinstance(coding, dict) and coding.get("code"):
                return str(coding["code"])
        if isinstance(concept.get("text"), str):
            return concept["text"].strip()
    return ""
