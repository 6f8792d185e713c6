"""Landing parsed reports: match, normalise, de-duplicate, write, ledger, quarantine.

`land_reports()` takes one batch of `ParsedReport`s of one job and writes, in ONE transaction:
the new `Report` rows and their `Observation`s, the supersessions of corrected results, one
ledger event per report written (sealing the report, whose digest covers its observations), and
the quarantine items for whatever could not land. A failure rolls the whole batch back; earlier
batches stay, and re-running the job finds them again (idempotence).

De-duplication is by the report's key — a blind index of (source name, the source's report id),
or of (source name, client, exam date) when the source gives no id — and then per catalogue code
within the report:
* same code, same value → a duplicate (nothing written);
* same code, another value, and the source says the result is corrected → the old observation
  is superseded (kept, `is_current=False`) and the new one written; the report's version goes up;
* same code, another value, not marked corrected → quarantined as a conflict (nothing lost, and
  nothing silently overwritten);
* a code the stored report does not have yet (e.g. retried after a mapping was added) → added.

Serialisation: batches that may touch the same reports hold the lock on the job's
`ImportSource` row (a report key includes the source), so two jobs from one source cannot both
create the same report; the unique constraint on (institution, report_key) is the backstop.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from careledger.access.enforce import actor_of
from careledger.accounts.models import User
from careledger.crypto.blind_index import blind_index
from careledger.exams import payload
from careledger.exams.matching import Match, match_clients
from careledger.exams.models import (
    ImportJob,
    ImportSource,
    QuarantinedItem,
    QuarantineScope,
)
from careledger.exams.normalise import Normalised, Rejected, normalise
from careledger.exams.parsers.types import ParsedReport, ParsedResult, Reason
from careledger.ledger import services as ledger
from careledger.observations.models import LocalCode, Observation, Report, ReportStatus

ACTION_IMPORT = "observation.import"
PURPOSE = "report_sync"
_KEY_KIND = "report"


@dataclass
class Tally:
    results_read: int = 0
    imported: int = 0
    reports_created: int = 0
    duplicates: int = 0
    corrected: int = 0
    quarantined: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)
    # For retries: what happened to each report of the batch (report index → new items).
    items: list[tuple[int, QuarantinedItem]] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("results_read", "imported", "reports_created", "duplicates", "corrected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.quarantined += other.quarantined
        self.by_reason.update(other.by_reason)


def report_key(
    institution_id: uuid.UUID, source_name: str, report: ParsedReport, client_id: uuid.UUID
) -> str:
    if report.source_report_id.strip():
        value = f"{source_name}\x00id\x00{report.source_report_id.strip()}"
    else:
        day = timezone.localtime(report.effective_at).date().isoformat()
        value = f"{source_name}\x00client-day\x00{client_id}\x00{day}"
    return blind_index(institution_id, _KEY_KIND, value)


def local_codes(institution_id: uuid.UUID, source_name: str) -> dict[str, str]:
    return dict(
        LocalCode.objects.filter(
            institution_id=institution_id, source_name=source_name
        ).values_list("local_code", "code")
    )


@dataclass
class _Landing:
    """One matched report on its way in."""

    index: int
    parsed: ParsedReport
    client_id: uuid.UUID
    key: str
    good: list[tuple[ParsedResult, Normalised]]


class _Batch:
    def __init__(self, job: ImportJob, actor: User) -> None:
        self.job = job
        self.actor = actor
        self.tally = Tally()
        self.items: list[QuarantinedItem] = []

    def quarantine(
        self,
        index: int,
        parsed: ParsedReport,
        *,
        scope: str,
        reason: Reason,
        field_name: str,
        message: str,
        result: ParsedResult | None = None,
        client_id: uuid.UUID | None = None,
    ) -> None:
        item = QuarantinedItem(
            institution_id=self.job.institution_id,
            job=self.job,
            scope=scope,
            location=(result.location if result else parsed.location)[:100],
            field=field_name[:64],
            reason=str(reason),
            message=message,
            local_code=(result.local_code if result else "")[:64],
            local_name=(result.local_name if result else "")[:100],
            client_id=client_id,
            payload=payload.dump(payload.only(parsed, result) if result else parsed),
        )
        self.items.append(item)
        self.tally.items.append((index, item))
        self.tally.quarantined += len(parsed.results) if result is None else 1
        self.tally.by_reason[str(reason)] += len(parsed.results) if result is None else 1


def land_reports(
    *,
    job: ImportJob,
    reports: list[ParsedReport],
    actor: User,
    forced_client: uuid.UUID | None = None,
) -> Tally:
    """Land one batch (see the module docstring). `forced_client`: a person matched the
    report(s) by hand; the file's identifiers are then not used."""
    batch = _Batch(job, actor)
    institution_id = job.institution_id
    source_name = job.source.name
    mapping = local_codes(institution_id, source_name)
    if forced_client is not None:
        from careledger.clients.models import Client

        sex, birth = Client.objects.values_list("sex", "birth_date").get(pk=forced_client)
        matches = [Match(forced_client, sex=sex, birth_date=birth) for _ in reports]
    else:
        matches = match_clients(institution_id, reports)
    landings: list[_Landing] = []
    for parsed, match in zip(reports, matches, strict=True):
        batch.tally.results_read += len(parsed.results)
        if match.client_id is None:
            batch.quarantine(
                parsed.index,
                parsed,
                scope=QuarantineScope.REPORT,
                reason=match.reason or Reason.UNMATCHED_CLIENT,
                field_name=match.field,
                message=match.message,
            )
            continue
        good = []
        for result in parsed.results:
            outcome = normalise(
                result,
                report_effective_at=parsed.effective_at,
                sex=match.sex,
                birth_date=match.birth_date,
                local_map=mapping,
            )
            if isinstance(outcome, Rejected):
                batch.quarantine(
                    parsed.index,
                    parsed,
                    scope=QuarantineScope.RESULT,
                    reason=outcome.reason,
                    field_name=outcome.field,
                    message=outcome.message,
                    result=result,
                    client_id=match.client_id,
                )
            else:
                good.append((result, outcome))
        key = report_key(institution_id, source_name, parsed, match.client_id)
        landings.append(_Landing(parsed.index, parsed, match.client_id, key, good))
    with transaction.atomic():
        ImportSource.objects.select_for_update().only("id").get(pk=job.source_id)
        _write(batch, landings)
        QuarantinedItem.objects.bulk_create(batch.items)
    return batch.tally


def _write(batch: _Batch, landings: list[_Landing]) -> None:
    job = batch.job
    now = timezone.now()
    existing = {
        r.report_key: r
        for r in Report.objects.select_for_update().filter(
            institution_id=job.institution_id, report_key__in=[x.key for x in landings]
        )
    }
    current: dict[tuple[uuid.UUID, str], Observation] = {}
    if existing:
        for obs in Observation.objects.filter(
            report_id__in=[r.id for r in existing.values()], is_current=True
        ):
            current[obs.report_id, obs.code] = obs
    new_reports: list[Report] = []
    observations: list[Observation] = []
    superseded: list[Observation] = []
    touched: dict[uuid.UUID, Report] = {}
    for landing in landings:
        report = existing.get(landing.key)
        if report is not None and report.client_id != landing.client_id:
            for result, _n in landing.good:
                batch.quarantine(
                    landing.index,
                    landing.parsed,
                    scope=QuarantineScope.RESULT,
                    reason=Reason.CONFLICT,
                    field_name="report_id",
                    message="a report with this id from this source was already imported for "
                    "another client",
                    result=result,
                    client_id=landing.client_id,
                )
            continue
        if report is None:
            if not landing.good:
                continue
            report = Report(
                institution_id=job.institution_id,
                client_id=landing.client_id,
                source_name=job.source.name,
                report_key=landing.key,
                effective_at=landing.parsed.effective_at,
                status=ReportStatus.FINAL,
                import_job_id=job.id,
                created_at=now,
                updated_at=now,
            )
            existing[landing.key] = report
            new_reports.append(report)
            batch.tally.reports_created += 1
        changed = False
        for result, norm in landing.good:
            old = current.get((report.id, norm.code))
            if old is not None and norm.same_value(old.value, old.comparator, old.value_text):
                batch.tally.duplicates += 1
                continue
            if old is not None and norm.status != "corrected":
                batch.quarantine(
                    landing.index,
                    landing.parsed,
                    scope=QuarantineScope.RESULT,
                    reason=Reason.CONFLICT,
                    field_name="value",
                    message=f"{norm.code}: this report already has another value for this "
                    "code and the new one is not marked as a correction",
                    result=result,
                    client_id=landing.client_id,
                )
                continue
            if old is not None:
                old.is_current = False
                old.superseded_at = now
                superseded.append(old)
                report.status = ReportStatus.CORRECTED
                batch.tally.corrected += 1
            obs = _observation(report, norm, now)
            observations.append(obs)
            current[report.id, norm.code] = obs
            batch.tally.imported += 1
            changed = True
        if changed:
            touched[report.id] = report
    Report.objects.bulk_create(new_reports)
    created = {r.id for r in new_reports}
    for report in touched.values():
        if report.id not in created:
            report.version += 1
            report.updated_at = now
            report.save(update_fields=["version", "status", "updated_at"])
    if superseded:
        Observation.objects.bulk_update(superseded, ["is_current", "superseded_at"])
    Observation.objects.bulk_create(observations)
    if touched:
        reports = list(touched.values())
        Report.prefetch_sealed_children(reports)  # one query for every report's digest
        counts = Counter(o.report_id for o in observations)
        ledger.record_many(
            actor=actor_of(batch.actor),
            action=ACTION_IMPORT,
            client_ids=[str(r.client_id) for r in reports],
            purpose=PURPOSE,
            resource_type="DiagnosticReport",
            resource_ids=[str(r.id) for r in reports],
            details=[
                {"job": str(job.id), "version": r.version, "observations": counts[r.id]}
                for r in reports
            ],
            sealed=[[r] for r in reports],
        )


def _observation(report: Report, norm: Normalised, now) -> Observation:  # type: ignore[no-untyped-def]
    return Observation(
        institution_id=report.institution_id,
        client_id=report.client_id,
        report=report,
        code=norm.code,
        effective_at=norm.effective_at,
        value=norm.value,
        comparator=norm.comparator,
        value_text=norm.value_text,
        unit=norm.unit,
        flag=norm.flag,
        source_code=norm.source_code,
        source_value=norm.source_value,
        source_unit=norm.source_unit,
        source_range=norm.source_range,
        source_flag=norm.source_flag,
        created_at=now,
    )
