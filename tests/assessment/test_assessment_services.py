"""Risk assessments from client data: facts gathered from results and the record, every model
evaluated and stored with its inputs and their sources, idempotent re-runs, superseded rows
kept, clinician-supplied facts used by later automatic runs, ledger events that seal what was
written (verify passes, and catches an edit made behind the application's back), and refusals
for everyone who may not run or read an assessment."""

from __future__ import annotations

import datetime as dt

import pytest

from assessment.conftest import checkup as _checkup
from careledger.access.enforce import AccessDenied
from careledger.assessment import facts, selectors, services
from careledger.assessment.evaluate import fact_name
from careledger.assessment.inputs import gather
from careledger.assessment.models import RiskAssessment, SuppliedFact
from careledger.assessment.riskmodels import MODELS
from careledger.clients.models import Client
from careledger.ledger.models import LedgerEntry
from careledger.ledger.verify import verify

pytestmark = pytest.mark.django_db


def vegetables_input() -> str:
    """FINDRISC's input that the `vegetables_daily` fact fills."""
    model = MODELS["findrisc"]
    return next(s.name for s in model.inputs if fact_name(model.id, s.name) == "vegetables_daily")


def test_facts_come_from_the_latest_results_and_the_record(world, patient):
    row = gather(institution=world.inst, client_ids=[patient], today=dt.date(2026, 12, 4)).row(
        0, named=True
    )
    assert row["age"] == 58 and row["sex"] == "M"
    assert row["sbp"] == 146 and row["tc"] == pytest.approx(5.6) and row["bmi"] == 26.4
    assert row["sbp_at"].date() == dt.date(2026, 5, 1)
    assert row["hypertension"] and row["bp_treated"] and row["smoker"]
    assert row["diabetes"] is False
    assert row["family_diabetes"] == "first" and row["family_ascvd"] is False
    assert row["active_30min_daily"] is False
    assert row["ever_high_glucose"] is True  # fasting glucose 6.3 ≥ 6.1
    assert row["vegetables_daily"] is None  # the record cannot say
    assert row["north"] is True and row["urban"] is True


def test_a_population_frame_has_one_row_per_client_in_a_fixed_number_of_queries(
    world, patient, django_assert_max_num_queries
):
    for _ in range(3):
        world.enrol()
    with django_assert_max_num_queries(9):
        frame = gather(institution=world.inst, today=dt.date(2026, 12, 4))
    assert frame.height == 4
    assert frame.filter(frame["client_id"] == str(patient)).height == 1


def test_a_clinician_run_stores_every_model_with_its_inputs_and_sources(world, patient):
    summary = services.do_assess_client(actor=world.doctor, client_id=patient)
    assert summary.clients == 1 and summary.written == summary.evaluated == 13
    rows = {r.model_id: r for r in RiskAssessment.objects.filter(client_id=patient)}
    china_par = rows["china_par"]
    assert china_par.outcome == "assessed" and china_par.level in {"low", "medium", "high"}
    assert 0 < china_par.probability < 1
    assert china_par.inputs["sbp"] == {
        "value": 146.0,
        "source": "observation",
        "code": "8480-6",
        "at": "2026-05-01",
    }
    assert china_par.inputs["bp_treated"]["source"] == "derived"
    assert china_par.assessed_by == world.doctor and china_par.trigger == "manual"
    assert rows["bp_grade"].level == "grade_1"
    # FINDRISC needs "vegetables every day", which the record cannot give.
    findrisc = rows["findrisc"]
    assert findrisc.outcome == "not_applicable"
    assert [r["input"] for r in findrisc.result["reasons"]] == [vegetables_input()]
    ckd = rows["ckd_epi_2021"]
    assert ckd.outcome == "assessed" and ckd.unit and ckd.value > 60


def test_assessing_again_from_the_same_facts_writes_nothing(world, patient):
    services.do_assess_client(actor=world.doctor, client_id=patient)
    events = LedgerEntry.objects.filter(action="risk.assess").count()
    again = services.reassess_clients(institution_id=world.inst.id, client_ids=[str(patient)])
    assert again.written == 0 and again.evaluated == 13
    assert RiskAssessment.objects.filter(client_id=patient).count() == 13
    assert LedgerEntry.objects.filter(action="risk.assess").count() == events


def test_a_new_result_supersedes_the_assessment_and_keeps_the_old_one(world, patient):
    services.do_assess_client(actor=world.doctor, client_id=patient)
    _checkup(world, patient, dt.date(2026, 11, 1), sbp=172, dbp=104)
    summary = services.reassess_clients(institution_id=world.inst.id, client_ids=[str(patient)])
    assert summary.written >= 2  # the BP grade and every model that reads SBP
    grades = RiskAssessment.objects.filter(client_id=patient, model_id="bp_grade")
    assert sorted((r.level, r.is_current) for r in grades) == [
        ("grade_1", False),
        ("grade_2", True),
    ]
    assert verify().ok


def test_clinician_facts_are_used_by_later_automatic_runs(world, patient):
    services.do_supply_facts(
        actor=world.manager, client_id=patient, data={"vegetables_daily": True}
    )
    findrisc = RiskAssessment.objects.get(client_id=patient, model_id="findrisc", is_current=True)
    assert findrisc.outcome == "assessed"
    assert findrisc.inputs[vegetables_input()]["source"] == "clinician"
    again = services.assess_institution(institution_id=world.inst.id)
    assert again.written == 0  # the supplied fact still applies
    services.do_supply_facts(
        actor=world.manager, client_id=patient, data={"vegetables_daily": None}
    )
    assert not SuppliedFact.objects.filter(client_id=patient).exists()
    findrisc = RiskAssessment.objects.get(client_id=patient, model_id="findrisc", is_current=True)
    assert findrisc.outcome == "not_applicable"
    assert verify().ok


def test_supplied_facts_are_checked(world, patient):
    from careledger.clients.validation import ValidationFailed

    with pytest.raises(ValidationFailed) as bad:
        services.do_supply_facts(
            actor=world.manager,
            client_id=patient,
            data={"sbp": True, "smoker": "maybe", "family_diabetes": "cousin"},
        )
    assert set(bad.value.errors) == {"sbp", "smoker", "family_diabetes"}


def test_the_population_run_assesses_everyone_and_latest_risks_reads_it(world, patient):
    other = world.enrol(sex="F", birth_date=dt.date(1990, 1, 1)).client_id
    _checkup(world, other, dt.date(2026, 6, 1), sbp=118, dbp=76, bmi=21.0, waist=70)
    summary = services.assess_institution(institution_id=world.inst.id)
    assert summary.clients == 2 and summary.written == 26
    frame = facts.latest_risks(institution_id=world.inst.id)
    levels = {(r["client_id"], r["model"]): r["level"] for r in frame.iter_rows(named=True)}
    assert levels[str(other), "bp_grade"] == "normal"
    assert levels[str(patient), "bp_grade"] == "grade_1"
    assert (str(other), "findrisc") not in levels  # not applicable → not a fact
    assert facts.latest_risks(institution_id=world.inst.id, client_ids=[other]).height >= 1
    written = LedgerEntry.objects.filter(action="risk.assess", actor_id="system")
    assert written.count() == 2
    assert verify().ok


def test_an_assessment_edited_behind_the_applications_back_is_caught(world, patient):
    services.do_assess_client(actor=world.doctor, client_id=patient)
    RiskAssessment.objects.filter(client_id=patient, model_id="china_par").update(level="low2")
    report = verify()
    assert not report.ok
    assert any("assessment_riskassessment" in p for p in report.problems)


def test_the_care_team_reads_risks_and_the_read_is_ledgered(world, patient):
    services.do_assess_client(actor=world.doctor, client_id=patient)
    data = selectors.client_risks(world.nurse, patient)
    assert [r.model_id for r in data.risks][:3] == ["china_par", "pce_2013", "framingham_2008"]
    assert {r.kind for r in data.classifications} == {"classification"}
    sbp = next(i for i in data.risks[0].inputs if i.name == "sbp")
    assert sbp.source_zh == "检查结果" and sbp.at == "2026-05-01"
    read = LedgerEntry.objects.filter(action="risk.view", client_id=str(patient)).last()
    assert read.actor_id == str(world.nurse.id) and read.outcome == "allowed"


@pytest.mark.parametrize("who", ["nurse", "admin", "auditor", "analyst", "manager_b", "outsider"])
def test_who_may_not_run_an_assessment_is_refused_and_it_is_ledgered(world, patient, who):
    user = getattr(world, who)
    with pytest.raises(AccessDenied):
        services.do_assess_client(actor=user, client_id=patient)
    with pytest.raises(AccessDenied):
        services.do_supply_facts(actor=user, client_id=patient, data={"smoker": True})
    assert not RiskAssessment.objects.filter(client_id=patient).exists()
    refused = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied")
    assert refused.filter(action="risk.assess").count() == 2


@pytest.mark.parametrize("who", ["admin", "auditor", "analyst", "manager_b", "outsider"])
def test_who_may_not_read_risks_is_refused_and_it_is_ledgered(world, patient, who):
    user = getattr(world, who)
    with pytest.raises(AccessDenied):
        selectors.client_risks(user, patient)
    assert LedgerEntry.objects.filter(
        actor_id=str(user.id), outcome="denied", action="risk.view"
    ).exists()


def test_nothing_identifying_is_stored_with_an_assessment(world, patient):
    services.do_assess_client(actor=world.doctor, client_id=patient)
    client = Client.objects.get(pk=patient)
    stored = " ".join(
        f"{r.inputs} {r.result}" for r in RiskAssessment.objects.filter(client_id=patient)
    )
    for secret in (client.name, client.phone, client.document_number):
        assert secret not in stored
