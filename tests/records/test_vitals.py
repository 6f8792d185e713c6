"""Vital signs land in the observation store: one manual report per measurement set, values in
the catalogue's canonical units and flags, BMI computed, the report sealed with its
observations; a mistaken set is retracted, never edited or deleted."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from careledger.clients.selectors import age_on
from careledger.clients.validation import ValidationFailed
from careledger.ledger.models import LedgerEntry, RowSeal
from careledger.ledger.rows import row_digest
from careledger.ledger.verify import verify
from careledger.observations import catalogue
from careledger.observations.models import Observation, Report
from careledger.records.models import EntryRevision
from careledger.records.selectors import health_record
from careledger.records.services import do_add_entry, do_retract_entry
from records.conftest import vitals_data

pytestmark = pytest.mark.django_db


def record_vitals(world, member, **overrides):  # type: ignore[no-untyped-def]
    return do_add_entry(
        actor=world.manager, client_id=member.id, section="vitals", data=vitals_data(**overrides)
    )


def test_a_measurement_set_becomes_one_manual_report_of_observations(world, member):
    saved = record_vitals(world, member)
    report = Report.objects.get(pk=saved.id)
    assert report.source_name == "manual" and report.client_id == member.id
    values = {o.code: o for o in Observation.objects.filter(report=report)}
    assert set(values) == {"8480-6", "8462-4", "8867-4", "8302-2", "29463-7", "8280-0", "39156-5"}
    assert values["8480-6"].value == Decimal(148) and values["8462-4"].value == Decimal(92)
    assert values["39156-5"].value == Decimal("27.2")  # 78.5 / 1.70²
    assert all(o.is_current and o.effective_at == report.effective_at for o in values.values())


def test_values_are_in_the_catalogues_canonical_unit_and_flagged_by_it(world, member):
    saved = record_vitals(world, member)
    for obs in Observation.objects.filter(report_id=saved.id):
        indicator = catalogue.find(obs.code)
        if indicator is None:  # the catalogue is still growing; the fallback is UCUM too
            continue
        assert obs.unit == indicator.unit, obs.code
        age = age_on(member.birth_date, timezone.localdate(obs.effective_at))
        assert obs.flag == catalogue.flag(indicator, obs.value, sex="M", age=age), obs.code
    sbp = Observation.objects.get(report_id=saved.id, code="8480-6")
    assert sbp.flag in {"H", "HH"}  # 148 mmHg is above any adult range


def test_the_report_is_sealed_after_its_observations_so_verify_covers_them(world, member):
    saved = record_vitals(world, member)
    report = Report.objects.get(pk=saved.id)
    seal = RowSeal.objects.get(table="observations_report", row_id=str(report.id))
    assert seal.digest == row_digest(report)
    event = LedgerEntry.objects.get(seq=seal.seq)
    leaf = json.loads(event.leaf)
    assert leaf["resource"] == {"type": "Observation", "id": str(report.id)}
    assert verify().ok
    Observation.objects.filter(report=report, code="8480-6").update(value=Decimal(118))
    problems = verify().problems
    assert any("observations_report" in p and str(report.id) in p for p in problems), problems


def test_sbp_not_above_dbp_and_lone_values_are_refused_by_field(world, member):
    with pytest.raises(ValidationFailed) as caught:
        record_vitals(world, member, sbp=Decimal(80), dbp=Decimal(90))
    assert "dbp" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        record_vitals(world, member, dbp=None)
    assert "dbp" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        record_vitals(world, member, heart_rate=Decimal(400), weight=Decimal("70.25"))
    assert set(caught.value.errors) == {"heart_rate", "weight"}


def test_a_future_time_or_no_measurement_at_all_is_refused(world, member):
    with pytest.raises(ValidationFailed) as caught:
        record_vitals(world, member, measured_at=timezone.now() + dt.timedelta(hours=2))
    assert "measured_at" in caught.value.errors
    empty = dict.fromkeys(("sbp", "dbp", "heart_rate", "height", "weight", "waist"))
    with pytest.raises(ValidationFailed) as caught:
        record_vitals(world, member, **empty)
    assert "__all__" in caught.value.errors
    assert not Report.objects.filter(client=member).exists()


def test_without_both_height_and_weight_there_is_no_bmi(world, member):
    saved = record_vitals(world, member, height=None)
    codes = set(Observation.objects.filter(report_id=saved.id).values_list("code", flat=True))
    assert "39156-5" not in codes and "29463-7" in codes


def test_a_retracted_set_leaves_the_record_but_keeps_its_rows_and_history(world, member):
    saved = record_vitals(world, member)
    assert len(health_record(world.manager, member.id).vital_sets) == 1
    do_retract_entry(
        actor=world.doctor,
        client_id=member.id,
        section="vitals",
        entry_id=saved.id,
        reason="血压计未校准",
    )
    assert health_record(world.manager, member.id).vital_sets == []
    assert Observation.objects.filter(report_id=saved.id, is_current=False).count() == 7
    revisions = EntryRevision.objects.filter(entry_id=saved.id).order_by("version")
    assert [r.status for r in revisions] == ["active", "entered_in_error"]
    assert json.loads(revisions[1].snapshot)["sbp"] == "148"
    assert verify().ok


def test_imported_results_are_not_retracted_here(world, member):
    from careledger.crypto.blind_index import blind_index

    report = Report.objects.create(
        institution_id=member.institution_id,
        client=member,
        source_name="体检中心A",
        report_key=blind_index(member.institution_id, "report", "a"),
        effective_at=timezone.now(),
    )
    Observation.objects.create(
        institution_id=member.institution_id,
        client=member,
        report=report,
        code="8480-6",
        effective_at=report.effective_at,
        value=Decimal(120),
        unit="mm[Hg]",
        created_at=timezone.now(),
    )
    shown = health_record(world.manager, member.id).vital_sets
    assert [s.source_name for s in shown] == ["体检中心A"] and not shown[0].manual
    with pytest.raises(ValidationFailed):
        do_retract_entry(
            actor=world.manager,
            client_id=member.id,
            section="vitals",
            entry_id=report.id,
            reason="不对的数据",
        )
