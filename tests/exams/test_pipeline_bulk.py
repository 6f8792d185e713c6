"""The import's bulk write path: observations written as plain rows (COPY on PostgreSQL, portable
INSERTs elsewhere) and digested on their way in, never read back — so what the rows hold must
be exactly what the database gives back, and each report's seal must be the digest `ledger
verify` recomputes from the tables. Covers the values the database rewrites (ranks, zeros,
decimal places), corrections and duplicates inside one batch, and both insert paths."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from tests.conftest import make_citizen_id
from tests.exams.pipeline_kit import make_job, report, result

from careledger.exams import pipeline
from careledger.exams.pipeline import land_reports
from careledger.ledger.models import LedgerEntry, RowSeal
from careledger.ledger.rows import row_digest
from careledger.ledger.verify import verify
from careledger.observations import catalogue
from careledger.observations.models import Observation, Report

pytestmark = pytest.mark.django_db

BIRTH = dt.date(1958, 11, 2)


@pytest.fixture
def number(world):  # type: ignore[no-untyped-def]
    number = make_citizen_id(BIRTH, "M", 41)
    world.enrol(document_number=number, sex="M", birth_date=BIRTH)
    return number


def seal_matches_tables(report_row: Report) -> bool:
    fresh = Report.objects.get(pk=report_row.pk)  # children read from the table
    seal = RowSeal.objects.get(table="observations_report", row_id=str(fresh.pk))
    return seal.digest == row_digest(fresh)


@pytest.fixture(params=["copy", "portable"])
def insert_path(request, monkeypatch):  # type: ignore[no-untyped-def]
    if request.param == "copy" and connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    if request.param == "portable":
        monkeypatch.setattr(pipeline, "_copy_supported", lambda: False)
    return request.param


def test_values_the_database_rewrites_are_sealed_as_it_stores_them(world, number, insert_path):
    tally = land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[
            report(
                result("2888-6", "1+"),  # an ordinal rank: 2 is stored as 2.000000
                result("25428-4", "阴性"),  # rank 0
                result("704-7", "-0", "10^9/L"),  # negative zero: the database keeps 0
                result("751-8", "0.0000004", "10^9/L"),  # beyond 6 places: rounded first
                result("1834-1", "999999.999999", "ng/mL"),  # 12 significant digits
                result("2345-7", "126", "mg/dL"),  # converted: 6.993783…
                result("1742-6", "35", "U/L", range='<40 "ALT"', flag="\\"),
                id_number=number,
            )
        ],
    )
    assert (tally.imported, tally.quarantined) == (7, 0)
    stored = {o.code: o for o in Observation.objects.all()}
    rank = catalogue.get("2888-6").ordinal_scale.index("1+")
    assert (stored["2888-6"].value, stored["2888-6"].value_text) == (rank, "1+")
    assert str(stored["704-7"].value) == "0.000000"
    assert stored["1834-1"].value == Decimal("999999.999999")
    assert stored["1742-6"].source_range == '<40 "ALT"'
    assert seal_matches_tables(Report.objects.get())
    assert verify().ok


def test_a_result_corrected_within_one_batch_keeps_both_rows_under_one_seal(
    world, number, insert_path
):
    first = report(result("2345-7", "5.6", "mmol/L"), id_number=number, index=0)
    again = report(
        result("2345-7", "7.1", "mmol/L", status="corrected"),
        result("2345-7", "7.1", "mmol/L", status="corrected"),
        id_number=number,
        index=1,
    )
    tally = land_reports(job=make_job(world.admin), actor=world.admin, reports=[first, again])
    assert (tally.reports_created, tally.imported, tally.corrected, tally.duplicates) == (
        1,
        2,
        1,
        1,
    )
    rows = {(o.value.normalize(), o.is_current) for o in Observation.objects.all()}
    assert rows == {(Decimal("5.6"), False), (Decimal("7.1"), True)}
    assert Observation.objects.get(is_current=False).superseded_at is not None
    assert LedgerEntry.objects.filter(action="observation.import").count() == 1
    assert seal_matches_tables(Report.objects.get())
    assert verify().ok


def test_a_code_corrected_within_one_report_and_a_report_split_over_two_landings(
    world, number, insert_path
):
    one = report(
        result("2345-7", "5.6", "mmol/L"),
        result("2345-7", "5.9", "mmol/L", status="corrected"),  # before anything is sent
        id_number=number,
        report_id="R-7",
        index=0,
    )
    more = report(result("1742-6", "20", "U/L"), id_number=number, report_id="R-7", index=1)
    tally = land_reports(job=make_job(world.admin), actor=world.admin, reports=[one, more])
    assert (tally.reports_created, tally.imported, tally.corrected) == (1, 3, 1)
    current = {o.code: o.value.normalize() for o in Observation.objects.filter(is_current=True)}
    assert current == {"2345-7": Decimal("5.9"), "1742-6": Decimal("20")}
    assert Observation.objects.filter(is_current=False).count() == 1
    assert seal_matches_tables(Report.objects.get())
    assert verify().ok


def test_a_report_that_existed_is_resealed_with_its_old_and_new_observations(
    world, number, insert_path
):
    land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[report(result("2345-7", "5.6", "mmol/L"), id_number=number)],
    )
    tally = land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[
            report(
                result("2345-7", "5.6", "mmol/L"), result("1742-6", "20", "U/L"), id_number=number
            )
        ],
    )
    assert (tally.imported, tally.duplicates, tally.reports_created) == (1, 1, 0)
    row = Report.objects.get()
    assert row.version == 2 and seal_matches_tables(row)
    assert verify().ok
    Observation.objects.filter(code="2345-7").update(flag="H")  # the older one, behind the back
    assert any("observations_report" in p for p in verify().problems)


def test_both_insert_paths_write_the_same_rows(world, number, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("one path only on this database")
    columns = [f for f in pipeline._ROW_FIELDS if f not in ("id", "report_id", "created_at")]

    def land(tag: str) -> list[tuple]:  # type: ignore[type-arg]
        land_reports(
            job=make_job(world.admin),
            actor=world.admin,
            reports=[
                report(
                    result("2345-7", "126", "mg/dL", range="70-110", flag="H"),
                    result("2888-6", "±"),
                    result("704-7", "0.03", "10^9/L"),
                    id_number=number,
                    report_id=tag,
                )
            ],
        )
        rows = Observation.objects.filter(
            report__report_key=Report.objects.latest("created_at").report_key
        )
        return sorted(rows.values_list(*columns))

    copied = land("A-1")
    monkeypatch.setattr(pipeline, "_copy_supported", lambda: False)
    inserted = land("A-2")
    assert copied == inserted and len(copied) == 3
    assert verify().ok


def test_many_reports_in_one_batch_each_get_their_own_event_and_seal(world, insert_path):
    numbers = []
    for serial in range(5):
        n = make_citizen_id(BIRTH, "F", 100 + serial)
        world.enrol(document_number=n, sex="F", birth_date=BIRTH)
        numbers.append(n)
    reports = [
        report(
            result("2345-7", f"5.{i}", "mmol/L"),
            result("2093-3", f"4.{i}", "mmol/L"),
            id_number=n,
            report_id=f"B-{i}",
            index=i,
        )
        for i, n in enumerate(numbers)
    ]
    tally = land_reports(job=make_job(world.admin), actor=world.admin, reports=reports)
    assert (tally.reports_created, tally.imported) == (5, 10)
    events = LedgerEntry.objects.filter(action="observation.import")
    assert events.count() == 5
    assert {e.client_id for e in events} == {str(r.client_id) for r in Report.objects.all()}
    assert all(seal_matches_tables(r) for r in Report.objects.all())
    assert verify().ok
