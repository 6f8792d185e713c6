"""The risk page and API: the care team sees every model with its inputs and sources (Chinese
first), clinicians run an assessment and give facts, nurses read without the buttons and are
refused the writes, outsiders and separated duties are refused; the FHIR export validates."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.bundle import Bundle

from careledger.assessment import services
from careledger.assessment.models import RiskAssessment, SuppliedFact
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def url(client_id, tail: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/clients/{client_id}/risk/{tail}"


def test_the_page_shows_models_inputs_and_sources_in_chinese(world, patient, login):
    services.do_assess_client(actor=world.doctor, client_id=patient)
    body = login(world.manager).get(url(patient)).content.decode()
    assert "疾病风险评估" in body
    assert 'id="risk-china_par"' in body and 'id="risk-bp_grade"' in body
    assert "检查结果" in body and "2026-05-01" in body  # an input's source and date
    assert "由档案推定" in body  # bp_treated derived from diagnosis and medication
    assert "不适用" in body  # FINDRISC lacks the vegetables answer
    assert 'id="assess-now"' in body and 'id="save-facts"' in body
    assert "Yang X" in body  # China-PAR's citation


def test_a_page_with_nothing_assessed_says_so(world, patient, login):
    body = login(world.manager).get(url(patient)).content.decode()
    assert "尚未评估" in body


def test_a_clinician_assesses_and_gives_facts_from_the_page(world, patient, login):
    http = login(world.doctor)
    response = http.post(url(patient), {"action": "assess"})
    assert response.status_code == 302
    assert RiskAssessment.objects.filter(client_id=patient, is_current=True).count() == 13
    response = http.post(url(patient), {"action": "facts", "vegetables_daily": "yes"})
    assert response.status_code == 302
    assert SuppliedFact.objects.get(client_id=patient, name="vegetables_daily").value is True
    findrisc = RiskAssessment.objects.get(client_id=patient, model_id="findrisc", is_current=True)
    assert findrisc.outcome == "assessed"
    body = http.get(url(patient)).content.decode()
    assert "医务人员填写" in body


def test_a_bad_fact_is_reported_and_nothing_changes(world, patient, login):
    http = login(world.doctor)
    response = http.post(
        url(patient), {"action": "facts", "family_diabetes": "cousin"}, follow=True
    )
    assert "none, second, first" in response.content.decode()
    assert not SuppliedFact.objects.filter(client_id=patient).exists()


def test_a_nurse_reads_without_buttons_and_is_refused_the_writes(world, patient, login):
    services.do_assess_client(actor=world.doctor, client_id=patient)
    http = login(world.nurse)
    body = http.get(url(patient)).content.decode()
    assert 'id="risk-china_par"' in body and 'id="assess-now"' not in body
    assert 'id="save-facts"' not in body
    before = RiskAssessment.objects.count()
    assert http.post(url(patient), {"action": "assess"}).status_code == 403
    assert http.post(url(patient), {"action": "facts", "smoker": "no"}).status_code == 403
    assert RiskAssessment.objects.count() == before
    assert http.post(f"/api/clients/{patient}/risk").status_code == 403


@pytest.mark.parametrize("who", ["admin", "auditor", "analyst", "outsider"])
def test_separated_duties_and_outsiders_are_refused(world, patient, login, who):
    services.do_assess_client(actor=world.doctor, client_id=patient)
    user = getattr(world, who)
    http = login(user)
    for path in (url(patient), f"/api/clients/{patient}/risk", f"/api/clients/{patient}/risk/fhir"):
        response = http.get(path)
        assert response.status_code in {403, 404}, path
        assert "china_par" not in response.content.decode()
    assert LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").exists()


def test_another_care_team_is_offered_break_glass_and_nothing_more(world, patient, login):
    response = login(world.manager_b).get(url(patient))
    assert response.status_code == 403
    assert "break-glass" in response.content.decode() or "紧急" in response.content.decode()


def test_the_api_gives_the_same_assessments(world, patient, login):
    http = login(world.manager)
    run = http.post(f"/api/clients/{patient}/risk").json()
    assert run == {"clients": 1, "evaluated": 13, "written": 13}
    data = http.get(f"/api/clients/{patient}/risk").json()
    china_par = next(r for r in data["risks"] if r["model"] == "china_par")
    assert china_par["applicable"] and 0 < china_par["probability"] < 1
    sbp = next(i for i in china_par["inputs"] if i["name"] == "sbp")
    assert sbp["source"] == "observation" and sbp["code"] == "8480-6"
    again = http.put(
        f"/api/clients/{patient}/risk/facts",
        {"facts": {"vegetables_daily": True}},
        content_type="application/json",
    ).json()
    assert again["written"] == 1  # FINDRISC now applies
    assert http.get(f"/api/clients/{patient}/risk/facts").json() == {"vegetables_daily": True}
    bad = http.put(
        f"/api/clients/{patient}/risk/facts",
        {"facts": {"sbp": True}},
        content_type="application/json",
    )
    assert bad.status_code in {400, 422}


def test_the_fhir_export_is_a_valid_bundle_of_risk_assessments(world, patient, login):
    services.do_assess_client(actor=world.doctor, client_id=patient)
    bundle = login(world.doctor).get(f"/api/clients/{patient}/risk/fhir").json()
    Bundle.model_validate(bundle)
    resources = [e["resource"] for e in bundle["entry"]]
    assert len(resources) == 13 and {r["resourceType"] for r in resources} == {"RiskAssessment"}
    china_par = next(r for r in resources if r["method"]["coding"][0]["code"] == "china_par")
    assert china_par["subject"]["reference"] == f"Patient/{patient}"
    assert 0 < china_par["prediction"][0]["probabilityDecimal"] < 1
    findrisc = next(r for r in resources if r["method"]["coding"][0]["code"] == "findrisc")
    assert findrisc["status"] == "preliminary" and findrisc["note"]


def test_the_model_catalogue_lists_every_model_with_its_inputs(world, login):
    models = login(world.admin).get("/api/config/risk-models").json()
    assert [m["id"] for m in models][:2] == ["china_par", "pce_2013"]
    china_par = models[0]
    assert any(i["name"] == "sbp" and i["loinc"] == "8480-6" for i in china_par["inputs"])
