"""A client's data as FHIR resources, by type: the reads behind every FHIR answer and share.

No authorisation here and no ledger: `fhirapi.selectors` (staff and partners) and
`sharing.services` (the signed share Bundle) authorise first, call these inside their own
transaction, and ledger what they sent. Each function is a fixed number of queries whatever the
client's history (the query-count tests hold it): results and reports are two queries for ten
years of check-ups, questionnaire responses three, and so on.

Mappings are those of the apps that own the data (`records.fhir`, `assessment.fhir`,
`questionnaires.selectors.fhir_of`, `consent`) plus `fhirapi.resources` for what had none.
`window` (from, to: dates or None) keeps dated events inside it; `ids` keeps only those
resources (a read by id).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from careledger.clients.models import Client, ClientStatus
from careledger.crypto import keyring
from careledger.fhirapi import resources

Window = tuple[dt.date | None, dt.date | None]
NO_WINDOW: Window = (None, None)
AUDIT_LIMIT = 500


def _day_bounds(window: Window) -> tuple[dt.datetime | None, dt.datetime | None]:
    start, end = window
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC) if start else None
    hi = (
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC) if end else None
    )
    return lo, hi


def _dated(qs, field: str, window: Window):  # type: ignore[no-untyped-def]
    lo, hi = _day_bounds(window)
    if lo:
        qs = qs.filter(**{f"{field}__gte": lo})
    if hi:
        qs = qs.filter(**{f"{field}__lt": hi})
    return qs


def patients(client: Client, window: Window = NO_WINDOW) -> list[dict[str, Any]]:
    keyring.preload([client], ["name"])
    return [
        resources.patient(
            id=str(client.id),
            name=client.name,
            sex=client.sex,
            birth_date=client.birth_date,
            active=client.status == ClientStatus.ACTIVE,
        )
    ]


def observations(
    client: Client, window: Window = NO_WINDOW, *, codes: Iterable[str] = ()
) -> list[dict[str, Any]]:
    from careledger.observations import catalogue
    from careledger.observations.models import Observation

    qs = _dated(Observation.objects.filter(client=client, is_current=True), "effective_at", window)
    chosen = list(codes)
    if chosen:
        qs = qs.filter(code__in=chosen)
    out = []
    for row in qs.order_by("effective_at", "code", "id"):
        ind = catalogue.find(row.code)
        out.append(
            resources.observation(
                id=str(row.id),
                patient_id=str(client.id),
                code=row.code,
                display_zh=ind.name_zh if ind else row.code,
                display_en=ind.name_en if ind else row.code,
                effective=row.effective_at,
                value=row.value,
                comparator=row.comparator,
                value_text=row.value_text,
                unit=row.unit,
                flag=row.flag,
                report_id=str(row.report_id),
                source_code=row.source_code,
                source_value=row.source_value,
                source_unit=row.source_unit,
                source_range=row.source_range,
            )
        )
    return out


def diagnostic_reports(
    client: Client,
    window: Window = NO_WINDOW,
    *,
    results: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """`results` (report id → observation ids) when the caller already read the observations
    (`gather` does, for a Bundle of both): the report query is then the only one."""
    from careledger.observations.models import Observation, Report

    reports = list(_dated(Report.objects.filter(client=client), "effective_at", window))
    if results is None:
        results = defaultdict(list)
        rows = Observation.objects.filter(
            report_id__in=[r.id for r in reports], is_current=True
        ).values_list("report_id", "id")
        for report_id, obs_id in rows.order_by("report_id", "code", "id"):
            results[str(report_id)].append(str(obs_id))
    return [
        resources.diagnostic_report(
            id=str(r.id),
            patient_id=str(client.id),
            effective=r.effective_at,
            issued=r.issued_at,
            status=r.status,
            version=r.version,
            source_name=r.source_name,
            result_ids=results.get(str(r.id), []),
        )
        for r in sorted(reports, key=lambda r: (r.effective_at, str(r.id)))
    ]


def conditions(client: Client, window: Window = NO_WINDOW) -> list[dict[str, Any]]:
    from careledger.records import fhir as record_fhir
    from careledger.records.models import ConditionEntry

    rows = list(ConditionEntry.objects.filter(client=client).order_by("created_at", "id"))
    keyring.preload(rows, ["note"])
    return [
        record_fhir.condition(
            record_fhir.Entry(
                id=str(r.id),
                patient_id=str(client.id),
                version=r.version,
                status=r.status,
                values={
                    "code": r.code,
                    "onset": r.onset,
                    "clinical_status": r.clinical_status,
                    "note": r.note,
                },
                recorded=r.created_at,
            )
        )
        for r in rows
    ]


def questionnaire_responses(client: Client, window: Window = NO_WINDOW) -> list[dict[str, Any]]:
    from careledger.questionnaires import selectors as q

    rows = [r for r in q._responses(client) if _in(r.completed_at or r.created_at, window)]
    return [q.fhir_of(q._view(r, with_answers=True), client.id) for r in reversed(rows)]


def risk_assessments(client: Client, window: Window = NO_WINDOW) -> list[dict[str, Any]]:
    from careledger.assessment import fhir as risk_fhir
    from careledger.assessment.models import Outcome, RiskAssessment
    from careledger.assessment.riskmodels import MODELS

    qs = RiskAssessment.objects.filter(client=client, is_current=True)
    out = []
    for row in _dated(qs, "assessed_at", window).order_by("model_id", "id"):
        model = MODELS.get(row.model_id)
        result = row.result or {}
        out.append(
            risk_fhir.risk_assessment(
                id=str(row.id),
                client_id=str(client.id),
                model_id=row.model_id,
                model_version=row.model_version,
                title=model.title_zh if model else row.model_id,
                applicable=row.outcome == Outcome.ASSESSED,
                probability=None if row.probability is None else float(row.probability),
                value=None if row.value is None else float(row.value),
                unit=row.unit,
                level=row.level,
                level_label=result.get("level_zh", ""),
                inputs=row.inputs or {},
                reasons=result.get("reasons", []),
                assessed_at=row.assessed_at,
            )
        )
    return out


def care_plans(client: Client, window: Window = NO_WINDOW) -> list[dict[str, Any]]:
    """No care plans are kept yet (健康干预 has not been built): nothing, and the
    CapabilityStatement says so rather than invent any."""
    return []


def consents(client: Client, window: Window = NO_WINDOW) -> list[dict[str, Any]]:
    from careledger.consent.models import Consent
    from careledger.consent.selectors import as_fhir

    rows = list(
        _dated(
            Consent.objects.filter(client=client).select_related("text"), "given_at", window
        ).order_by("given_at", "id")
    )
    if not rows:
        return []
    return [entry["resource"] for entry in as_fhir(client, rows)["entry"]]


def audit_events(client: Client, window: Window = NO_WINDOW) -> list[dict[str, Any]]:
    from careledger.ledger.models import LedgerEntry

    qs = _dated(LedgerEntry.objects.filter(client_id=str(client.id)), "recorded_at", window)
    rows = list(qs.order_by("-seq").only("seq", "leaf", "recorded_at")[:AUDIT_LIMIT])
    return [
        resources.audit_event(leaf=json.loads(e.leaf), seq=e.seq, recorded=e.recorded_at)
        for e in rows
    ]


def _in(when: dt.datetime | None, window: Window) -> bool:
    lo, hi = _day_bounds(window)
    if when is None:
        return lo is None and hi is None
    return (lo is None or when >= lo) and (hi is None or when < hi)


GATHERERS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "Patient": patients,
    "Observation": observations,
    "DiagnosticReport": diagnostic_reports,
    "Condition": conditions,
    "QuestionnaireResponse": questionnaire_responses,
    "RiskAssessment": risk_assessments,
    "CarePlan": care_plans,
    "Consent": consents,
    "AuditEvent": audit_events,
}
TYPES = tuple(GATHERERS)


def gather(
    client: Client, types: Iterable[str], window: Window = NO_WINDOW
) -> list[dict[str, Any]]:
    """Every resource of these types, in the order of `TYPES`."""
    wanted = set(types)
    out: list[dict[str, Any]] = []
    results: dict[str, list[str]] | None = None
    for rtype in TYPES:
        if rtype not in wanted:
            continue
        if rtype == "DiagnosticReport" and results is not None:
            out.extend(diagnostic_reports(client, window, results=results))
            continue
        found = GATHERERS[rtype](client, window)
        if rtype == "Observation":
            # The reports' results, from the observations just read (one query fewer, and the
            # ids of ten years of results are not converted twice). Same order as the query.
            results = defaultdict(list)
            for obs in sorted(found, key=lambda o: (o["code"]["coding"][0]["code"], o["id"])):
                report = obs.get("derivedFrom", [{}])[0].get("reference", "")
                results[report.removeprefix("DiagnosticReport/")].append(obs["id"])
        out.extend(found)
    return out
