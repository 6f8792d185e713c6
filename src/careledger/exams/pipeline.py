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

Speed (decision 0007, Performance): observations go to the database as plain rows, never model
instances — binary COPY on PostgreSQL, portable INSERTs elsewhere (`_insert`) — and each report
is normalised, de-duplicated and digested inside that stream, so the database inserts while the
next report is worked on. A row holds exactly what the database will give back (`_as_stored`),
so its digest (`ledger.rows.RowDigester`, byte for byte `row_digest`) is the one `ledger verify`
recomputes from the table; only reports that existed before the batch are read back to be
sealed. Python's cyclic garbage collector is paused while a batch lands.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Context as DecimalContext
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.utils import timezone

from careledger.access.enforce import actor_of
from careledger.accounts.models import User
from careledger.booking.hooks import reports_landed
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
from careledger.ledger.rows import RowDigester
from careledger.observations.models import LocalCode, Observation, Report, ReportStatus
from careledger.tagging.hooks import facts_changed

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
    """One matched report on its way in (its results are normalised as it is written)."""

    index: int
    parsed: ParsedReport
    match: Match
    key: str


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
    with _without_cyclic_gc():
        return _land(job=job, reports=reports, actor=actor, forced_client=forced_client)


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Python's cyclic garbage collector paused while one batch lands. A batch makes a few
    hundred thousand small objects (results, rows, ids) that all live until it commits; the
    collector would walk them, and the whole heap with them, again and again to find no cycle
    (measured: ~15% of an import's time). Reference counting still frees everything as usual;
    a cycle, if any, waits for the next collection. Process-wide, hence only for one batch."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _land(
    *,
    job: ImportJob,
    reports: list[ParsedReport],
    actor: User,
    forced_client: uuid.UUID | None,
) -> Tally:
    batch = _Batch(job, actor)
    institution_id = job.institution_id
    source_name = job.source.name
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
        key = report_key(institution_id, source_name, parsed, match.client_id)
        landings.append(_Landing(parsed.index, parsed, match, key))
    with transaction.atomic():
        ImportSource.objects.select_for_update().only("id").get(pk=job.source_id)
        writer = _Writer(batch, landings, local_codes(institution_id, source_name))
        writer.write()
        # Re-evaluate the tags of the clients whose results changed, after commit.
        facts_changed(client_ids={r.client_id for r in writer.touched.values()})
        # Link the reports to the check-up visits they came from (careledger.booking).
        reports_landed(report_ids=list(writer.touched))
        QuarantinedItem.objects.bulk_create(batch.items)
    return batch.tally


# --- writing -----------------------------------------------------------------------------
# Observations are written as plain rows, not model instances: building ~40 instances per
# report, Django's per-value preparation in bulk_create, reading them back for the report's
# digest and digesting each through the generic `row_digest` cost several times the database's
# own work. The rows carry exactly the values the database will give back (`_as_stored`), so
# the digest computed here (ledger.rows.RowDigester, byte for byte `row_digest`) is the one
# `ledger verify` recomputes from the table.

_ROW_FIELDS = (
    "id",
    "institution_id",
    "client_id",
    "report_id",
    "code",
    "effective_at",
    "value",
    "comparator",
    "value_text",
    "unit",
    "flag",
    "source_code",
    "source_value",
    "source_unit",
    "source_range",
    "source_flag",
    "is_current",
    "superseded_at",
    "created_at",
)
_ID, _REPORT_ID, _VALUE, _IS_CURRENT, _SUPERSEDED_AT = (
    _ROW_FIELDS.index(name) for name in ("id", "report_id", "value", "is_current", "superseded_at")
)
_QUANTUM = Decimal("0.000001")
_ZERO = Decimal("0.000000")
_COLUMN_CONTEXT = DecimalContext(prec=20)  # max_digits of Observation.value
_SQLITE_DIGITS = DecimalContext(prec=15)  # SQLite keeps a decimal as REAL: 15 digits come back


def _as_stored(value: Decimal | None, *, sqlite: bool) -> Decimal | None:
    """The value as the database gives it back: 6 decimal places, no negative zero, and on
    SQLite what survives its REAL storage (Django's own converter reads it so)."""
    if value is None:
        return None
    if sqlite:
        value = _SQLITE_DIGITS.create_decimal_from_float(float(value))
    value = value.quantize(_QUANTUM, context=_COLUMN_CONTEXT)
    return value if value else _ZERO


@cache
def _digester() -> RowDigester:
    digester = RowDigester(Observation)
    if tuple(digester.attnames) != _ROW_FIELDS:  # a new column must be written and digested
        raise ImproperlyConfigured(
            f"Observation columns {digester.attnames} differ from the import's {_ROW_FIELDS}"
        )
    return digester


class _Stored(NamedTuple):
    """A current observation already in the database (only what de-duplication compares)."""

    id: uuid.UUID
    value: Decimal | None
    comparator: str
    value_text: str


class _Writer:
    """Writes one batch's landings in the batch's transaction (see the module docstring).

    The observations stream to the database as each report is decided: the results are
    normalised, de-duplicated, made into rows and digested one report at a time, inside the
    insert (`_insert`), so the database inserts while the next report is worked
    on. The report rows follow the observations in the same transaction (their foreign keys
    are checked at commit: Django declares them DEFERRABLE INITIALLY DEFERRED). A row sent
    already and superseded by a later landing of its report in the batch is put right after
    the insert (an UPDATE, and its report's digests made again), before anything is sealed.
    """

    def __init__(self, batch: _Batch, landings: list[_Landing], mapping: dict[str, str]):
        self.batch = batch
        self.job = batch.job
        self.landings = landings
        self.mapping = mapping
        self.now = timezone.now()
        self.sqlite = connection.vendor == "sqlite"
        self.existing = {
            r.report_key: r
            for r in Report.objects.select_for_update().filter(
                institution_id=self.job.institution_id, report_key__in=[x.key for x in landings]
            )
        }
        # (report key, code) → the current observation: a _Stored, or a new row of this batch.
        self.current: dict[tuple[str, str], _Stored | list[Any]] = {}
        key_of = {r.id: r.report_key for r in self.existing.values()}
        stored = Observation.objects.filter(report_id__in=list(key_of), is_current=True)
        for obs_id, report_id, code, value, comparator, text in stored.values_list(
            "id", "report_id", "code", "value", "comparator", "value_text"
        ):
            self.current[key_of[report_id], code] = _Stored(obs_id, value, comparator, text)
        self.new_reports: dict[uuid.UUID, Report] = {}
        self.touched: dict[uuid.UUID, Report] = {}
        self.rows_of: dict[uuid.UUID, list[list[Any]]] = {}
        self.digests: dict[uuid.UUID, list[tuple[str, str]]] = {}
        self.superseded: list[uuid.UUID] = []  # stored before this batch, or sent already
        self.redigest: set[uuid.UUID] = set()  # new reports whose rows changed after digesting

    def write(self) -> None:
        _insert(Observation, _ROW_FIELDS, self._rows())
        now = self.now
        Report.objects.bulk_create(self.new_reports.values())
        for report in self.touched.values():
            if report.id not in self.new_reports:
                report.version += 1
                report.updated_at = now
                report.save(update_fields=["version", "status", "updated_at"])
        if self.superseded:
            Observation.objects.filter(pk__in=self.superseded).update(
                is_current=False, superseded_at=now
            )
        for report_id in self.redigest & self.new_reports.keys():
            self.digests[report_id] = _digester().digest_pairs(self.rows_of[report_id])
        if self.touched:
            self._seal(list(self.touched.values()))

    def _rows(self) -> Iterator[list[Any]]:
        digest_pairs = _digester().digest_pairs
        for landing in self.landings:
            rows = self._decide(landing)
            if not rows:
                continue
            report_id = rows[0][_REPORT_ID]
            if report_id in self.new_reports and report_id not in self.redigest:
                self.digests.setdefault(report_id, []).extend(digest_pairs(rows))
            yield from rows

    def _good(self, landing: _Landing) -> list[tuple[ParsedResult, Normalised]]:
        """The landing's results that normalise; the others are quarantined."""
        parsed, match, batch = landing.parsed, landing.match, self.batch
        good = []
        for result in parsed.results:
            outcome = normalise(
                result,
                report_effective_at=parsed.effective_at,
                sex=match.sex,
                birth_date=match.birth_date,
                local_map=self.mapping,
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
        return good

    def _decide(self, landing: _Landing) -> list[list[Any]]:
        """The new rows of one landing, after de-duplication (see the module docstring)."""
        batch, now = self.batch, self.now
        client_id = landing.match.client_id
        good = self._good(landing)
        report = self.existing.get(landing.key)
        if report is not None and report.client_id != client_id:
            for result, _n in good:
                batch.quarantine(
                    landing.index,
                    landing.parsed,
                    scope=QuarantineScope.RESULT,
                    reason=Reason.CONFLICT,
                    field_name="report_id",
                    message="a report with this id from this source was already imported for "
                    "another client",
                    result=result,
                    client_id=client_id,
                )
            return []
        if report is None:
            if not good:
                return []
            report = Report(
                institution_id=self.job.institution_id,
                client_id=client_id,
                source_name=self.job.source.name,
                report_key=landing.key,
                effective_at=landing.parsed.effective_at,
                status=ReportStatus.FINAL,
                import_job_id=self.job.id,
                created_at=now,
                updated_at=now,
            )
            self.existing[landing.key] = report
            self.new_reports[report.id] = report
            batch.tally.reports_created += 1
        rows: list[list[Any]] = []
        ids = _new_ids(len(good))
        for (result, norm), row_id in zip(good, ids, strict=True):
            old = self.current.get((landing.key, norm.code))
            if old is not None:
                stored = (
                    (old.value, old.comparator, old.value_text)
                    if isinstance(old, _Stored)
                    else (old[_VALUE], old[_VALUE + 1], old[_VALUE + 2])
                )
                if norm.same_value(*stored):
                    batch.tally.duplicates += 1
                    continue
                if norm.status != "corrected":
                    batch.quarantine(
                        landing.index,
                        landing.parsed,
                        scope=QuarantineScope.RESULT,
                        reason=Reason.CONFLICT,
                        field_name="value",
                        message=f"{norm.code}: this report already has another value for this "
                        "code and the new one is not marked as a correction",
                        result=result,
                        client_id=client_id,
                    )
                    continue
                if isinstance(old, _Stored):
                    self.superseded.append(old.id)
                else:  # corrected again within this batch: the earlier row stays, not current
                    old[_IS_CURRENT] = False
                    old[_SUPERSEDED_AT] = now
                    if not any(row is old for row in rows):  # sent already: updated after,
                        self.superseded.append(old[_ID])  # and the digests made again
                        self.redigest.add(report.id)
                report.status = ReportStatus.CORRECTED
                batch.tally.corrected += 1
            row = _row(row_id, report, norm, now, sqlite=self.sqlite)
            rows.append(row)
            self.current[landing.key, norm.code] = row
            batch.tally.imported += 1
        if rows:
            self.touched[report.id] = report
            self.rows_of.setdefault(report.id, []).extend(rows)
        return rows

    def _seal(self, reports: list[Report]) -> None:
        """One ledger event per report written, sealing the report with its observations: a
        new report's children are exactly the rows just written (digested on their way in); a
        report that existed has older ones too, read back."""
        for report in reports:
            if report.id in self.digests:
                report._sealed_child_digests = self.digests[report.id]  # type: ignore[attr-defined]
        Report.prefetch_sealed_children([r for r in reports if r.id not in self.digests])
        job = self.job
        ledger.record_many(
            actor=actor_of(self.batch.actor),
            action=ACTION_IMPORT,
            client_ids=[str(r.client_id) for r in reports],
            purpose=PURPOSE,
            resource_type="DiagnosticReport",
            resource_ids=[str(r.id) for r in reports],
            details=[
                {"job": str(job.id), "version": r.version, "observations": len(self.rows_of[r.id])}
                for r in reports
            ],
            sealed=[[r] for r in reports],
        )


def _new_ids(count: int) -> list[uuid.UUID]:
    """`count` random UUIDs exactly as `uuid.uuid4()` makes them (version 4, from the system's
    random source), with one read of that source for all of them instead of one each."""
    raw = os.urandom(16 * count)
    return [uuid.UUID(bytes=raw[i : i + 16], version=4) for i in range(0, 16 * count, 16)]


def _row(
    row_id: uuid.UUID, report: Report, norm: Normalised, now: dt.datetime, *, sqlite: bool
) -> list[Any]:
    """A new observation in the order of _ROW_FIELDS."""
    return [
        row_id,
        report.institution_id,
        report.client_id,
        report.id,
        norm.code,
        norm.effective_at,
        _as_stored(norm.value, sqlite=sqlite),
        norm.comparator,
        norm.value_text,
        norm.unit,
        norm.flag,
        norm.source_code,
        norm.source_value,
        norm.source_unit,
        norm.source_range,
        norm.source_flag,
        True,
        None,
        now,
    ]


def _insert(model: type[models.Model], names: Sequence[str], rows: Iterable[list[Any]]) -> None:
    """Insert rows of `model` (values in the order of the field `names`), consumed as they come.

    Portable SQL through `executemany`, values adapted by the fields' own db_prep methods. On
    PostgreSQL, binary COPY instead: the same rows (psycopg adapts the same Python values the
    fields pass it there), but streamed, so the server inserts while the next rows are made,
    and without a statement per row — the database's insert is the largest single cost of an
    import. This is the one backend-specific step of the import (decision 0007, Performance).
    """
    fields = [model._meta.get_field(name) for name in names]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if _copy_supported():
            # Binary: neither side writes nor parses each value as text. The column types are
            # PostgreSQL's names as Django declares them, without their modifiers.
            types = [re.sub(r"\(.*\)$", "", f.db_type(connection)).strip() for f in fields]
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
            map(_adapter(fields), rows),
        )


def _copy_supported() -> bool:
    """PostgreSQL through psycopg 3 (Django also drives PostgreSQL through psycopg2, which has
    no `Cursor.copy`: the portable path then)."""
    return connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg"


# Fields whose `get_db_prep_save` hands a str / bool / None back unchanged on every backend.
_AS_IS = (models.CharField, models.TextField, models.BooleanField)


def _adapter(fields: list[Any]) -> Callable[[list[Any]], list[Any]]:
    """A row's values as `field.get_db_prep_save` makes them. Text and flags pass as they are;
    a value held by many rows (the report's ids, the times: the same objects) is adapted once."""
    direct = []
    shared = []
    for i, f in enumerate(fields):
        if type(f) in _AS_IS:
            continue
        if f.primary_key or isinstance(f, models.DecimalField):
            direct.append((i, f.get_db_prep_save))
        else:
            shared.append((i, f.get_db_prep_save))
    memo: dict[int, tuple[Any, Any]] = {}  # id(value) → (value, adapted): kept alive, so ids hold

    def adapt(row: list[Any]) -> list[Any]:
        row = list(row)
        for i, prep in direct:
            row[i] = prep(row[i], connection)
        for i, prep in shared:
            value = row[i]
            known = memo.get(id(value))
            if known is None or known[0] is not value:
                known = memo[id(value)] = (value, prep(value, connection))
            row[i] = known[1]
        return row

    return adapt
