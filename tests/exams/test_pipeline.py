"""Landing parsed reports: canonical units beside the lab's own values, idempotent re-imports,
corrections, conflicts and every kind of quarantine, each with the ledger and its seals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from tests.conftest import make_citizen_id
from tests.exams.pipeline_kit import make_job, report, result

from careledger.clients.models import Client
from careledger.exams.models import QuarantinedItem
from careledger.exams.pipeline import land_reports
from careledger.ledger.models import LedgerEntry
from careledger.ledger.verify import verify
from careledger.observations.models import LocalCode, Observation, Report

pytestmark = pytest.mark.django_db

BIRTH = dt.date(1970, 3, 4)


@pytest.fixture
def person(world):  # type: ignore[no-untyped-def]
    number = make_citizen_id(BIRTH, "M", 17)
    enrolled = world.enrol(document_number=number, name="欧阳明", sex="M", birth_date=BIRTH)
    return Client.objects.get(pk=enrolled.client_id), number, enrolled.card_number


def test_results_land_in_the_canonical_unit_and_keep_the_labs_own(world, person):
    client, number, _card = person
    job = make_job(world.admin)
    tally = land_reports(
        job=job,
        actor=world.admin,
        reports=[
            report(
                result("2345-7", "126", "mg/dL", range="70-110", flag="H"),
                result("1742-6", "35", "U/L"),
                id_number=number,
                name="欧阳明",
            )
        ],
    )
    assert (tally.imported, tally.reports_created, tally.quarantined) == (2, 1, 0)
    glucose = Observation.objects.get(client=client, code="2345-7")
    assert glucose.unit == "mmol/L"
    assert abs(glucose.value - Decimal("6.99")) < Decimal("0.01")  # 126 / 18.016
    assert glucose.flag == "H"
    assert (
        glucose.source_value,
        glucose.source_unit,
        glucose.source_range,
        glucose.source_flag,
    ) == (
        "126",
        "mg/dL",
        "70-110",
        "H",
    )
    event = LedgerEntry.objects.get(action="observation.import")
    assert event.client_id == str(client.id) and event.outcome == "allowed"
    assert verify().ok


def test_the_same_report_imported_again_adds_nothing(world, person):
    _client, number, _card = person
    job = make_job(world.admin)
    parsed = report(result("2345-7", "5.6", "mmol/L"), id_number=number)
    land_reports(job=job, actor=world.admin, reports=[parsed])
    again = land_reports(job=make_job(world.admin), actor=world.admin, reports=[parsed])
    assert (again.imported, again.duplicates, again.reports_created) == (0, 1, 0)
    assert Observation.objects.count() == 1 and Report.objects.count() == 1
    assert LedgerEntry.objects.filter(action="observation.import").count() == 1


def test_a_corrected_result_supersedes_and_keeps_the_old_one(world, person):
    client, number, _card = person
    land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[report(result("2345-7", "5.6", "mmol/L"), id_number=number)],
    )
    tally = land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[report(result("2345-7", "6.6", "mmol/L", status="corrected"), id_number=number)],
    )
    assert tally.corrected == 1
    rows = list(Observation.objects.filter(client=client).order_by("created_at", "is_current"))
    assert [(r.value.normalize(), r.is_current) for r in rows] in (
        [(Decimal("5.6"), False), (Decimal("6.6"), True)],
        [(Decimal("6.6"), True), (Decimal("5.6"), False)],
    )
    report_row = Report.objects.get()
    assert (report_row.version, report_row.status) == (2, "corrected")
    assert verify().ok


def test_another_value_not_marked_corrected_is_quarantined_not_overwritten(world, person):
    _client, number, _card = person
    land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[report(result("2345-7", "5.6", "mmol/L"), id_number=number)],
    )
    tally = land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[report(result("2345-7", "9.9", "mmol/L"), id_number=number)],
    )
    assert tally.by_reason == {"conflict": 1}
    assert Observation.objects.get().value.normalize() == Decimal("5.6")


def test_bad_results_are_quarantined_one_by_one_while_the_good_ones_land(world, person):
    client, number, _card = person
    tally = land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[
            report(
                result("2345-7", "5.6", "mmol/L"),
                result("XQ-99", "12", "U/L", name="某未知项目"),
                result("2160-0", "80", "mg/kg"),
                result("1742-6", "abc", "U/L"),
                result("2823-3", "45", "mmol/L"),
                id_number=number,
            )
        ],
    )
    assert tally.imported == 1
    assert dict(tally.by_reason) == {
        "unknown_code": 1,
        "unit_not_convertible": 1,
        "bad_value": 1,
        "implausible_value": 1,
    }
    items = {i.reason: i for i in QuarantinedItem.objects.all()}
    assert items["unknown_code"].local_code == "XQ-99" and items["unknown_code"].client == client
    assert "mg/kg" in items["unit_not_convertible"].message
    assert "abc" in items["bad_value"].message
    assert number not in "".join(i.message for i in items.values())


def test_a_mapped_local_code_lands_on_the_catalogue_entry(world, person):
    _client, number, _card = person
    job = make_job(world.admin, source_name="市一医院检验科")
    LocalCode.objects.create(
        institution=world.inst, source_name="市一医院检验科", local_code="GLU01", code="2345-7"
    )
    land_reports(
        job=job,
        actor=world.admin,
        reports=[report(result("GLU01", "5.1", "mmol/L"), id_number=number)],
    )
    assert Observation.objects.get().code == "2345-7"


def test_an_exact_catalogue_name_maps_but_a_shared_one_does_not(world, person):
    _client, number, _card = person
    tally = land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[report(result("L001", "35", "U/L", name="谷丙转氨酶"), id_number=number)],
    )
    assert tally.imported == 1 and Observation.objects.get().code == "1742-6"


def test_reports_are_matched_by_card_number_too(world, person):
    client, _number, card = person
    land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[report(result("2345-7", "5.6", "mmol/L"), card_number=card)],
    )
    assert Observation.objects.get().client == client


@pytest.mark.parametrize(
    ("ids", "reason"),
    [
        ({"id_number": make_citizen_id(dt.date(1980, 1, 1), "F", 3)}, "unmatched_client"),
        ({}, "no_patient_id"),
        ({"id_number": "110101198001010000"}, "bad_patient_id"),
    ],
)
def test_reports_without_a_client_go_whole_to_the_quarantine(world, person, ids, reason):
    tally = land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[report(result("2345-7", "5.6", "mmol/L"), result("1742-6", "20", "U/L"), **ids)],
    )
    assert tally.imported == 0 and tally.by_reason == {reason: 2}
    item = QuarantinedItem.objects.get()
    assert (item.scope, item.reason, item.client) == ("report", reason, None)
    assert Observation.objects.count() == 0


def test_a_name_that_differs_from_the_matched_client_is_ambiguous(world, person):
    _client, number, _card = person
    tally = land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[report(result("2345-7", "5.6", "mmol/L"), id_number=number, name="张三")],
    )
    assert tally.by_reason == {"ambiguous_client": 1}


def test_id_and_card_of_two_different_clients_is_ambiguous(world, person):
    _client, number, _card = person
    other = world.enrol()
    tally = land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[
            report(
                result("2345-7", "5.6", "mmol/L"), id_number=number, card_number=other.card_number
            )
        ],
    )
    assert tally.by_reason == {"ambiguous_client": 1}


def test_clients_of_another_institution_are_never_matched(world, person):
    _client, number, _card = person
    tally = land_reports(
        job=make_job(world.outsider),
        actor=world.outsider,
        reports=[report(result("2345-7", "5.6", "mmol/L"), id_number=number)],
    )
    assert tally.by_reason == {"unmatched_client": 1}


def test_quarantined_payloads_are_sealed_at_rest(world, person):
    from django.db import connection

    land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[
            report(
                result("2345-7", "5.6", "mmol/L"),
                id_number=make_citizen_id(dt.date(1981, 2, 2), "F", 9),
                name="司徒静",
            )
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM exams_quarantineditem")
        (raw,) = cursor.fetchone()
    assert "司徒静" not in raw and "1981" not in raw


def test_an_observation_changed_behind_the_back_is_caught_by_verify(world, person):
    _client, number, _card = person
    land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[report(result("2345-7", "5.6", "mmol/L"), id_number=number)],
    )
    assert verify().ok
    Observation.objects.update(value=Decimal("4.4"))
    problems = verify().problems
    assert any("observations_report" in p and "changed" in p for p in problems), problems


def test_an_observation_inserted_behind_the_back_is_caught_by_verify(world, person):
    _client, number, _card = person
    land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[report(result("2345-7", "5.6", "mmol/L"), id_number=number)],
    )
    first = Observation.objects.get()
    first.pk = None
    first.id = None
    import uuid

    first.id = uuid.uuid4()
    first.code = "1742-6"
    first.save(force_insert=True)
    assert not verify().ok
