"""The FHIR R4 API for staff: the CapabilityStatement, reads, searches and $everything under the
care-team policy, every read ledgered, refusals for every other role, specific errors for bad
searches, constant query counts, and Bundle import through the report pipeline."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.sharing.conftest import checkup, consent, register, token

from careledger.fhirapi.validate import validate
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db
WHEN = dt.datetime(2024, 6, 1, 9, tzinfo=dt.UTC)


@pytest.fixture
def member(world):  # type: ignore[no-untyped-def]
    enrolled = world.enrol(name="欧阳明月", phone="13912340000")
    checkup(world, enrolled.client_id, when=WHEN, report_id="R1")
    return enrolled


def test_the_capability_statement_is_public_valid_and_honest_about_care_plans(client):
    response = client.get("/fhir/R4/metadata")
    assert response.status_code == 200 and response["Content-Type"] == "application/fhir+json"
    data = response.json()
    validate(data)
    rest = data["rest"][0]
    types = {r["type"]: r for r in rest["resource"]}
    assert set(types) == {
        "Patient",
        "Observation",
        "DiagnosticReport",
        "Condition",
        "QuestionnaireResponse",
        "RiskAssessment",
        "CarePlan",
        "Consent",
        "AuditEvent",
    }
    assert "No care plans are kept yet" in types["CarePlan"]["documentation"]
    assert types["Patient"]["operation"][0]["name"] == "everything"
    smart = client.get("/fhir/R4/.well-known/smart-configuration").json()
    assert smart["grant_types_supported"] == ["client_credentials"]
    assert "system/Observation.read" in smart["scopes_supported"]


def test_the_care_team_reads_and_searches_and_each_read_is_ledgered(world, login, member):
    http = login(world.manager)
    cid = member.client_id
    patient = http.get(f"/fhir/R4/Patient/{cid}")
    assert patient.status_code == 200
    assert patient.json()["name"][0]["text"] == "欧阳明月"
    assert "13912340000" not in patient.content.decode()  # no phone, no ID number
    obs = http.get(f"/fhir/R4/Observation?patient=Patient/{cid}").json()
    assert obs["type"] == "searchset" and obs["total"] == 2
    glucose = http.get(f"/fhir/R4/Observation?patient=Patient/{cid}&code=2345-7").json()
    assert glucose["total"] == 1
    one = glucose["entry"][0]["resource"]
    assert one["code"]["coding"][0]["code"] == "2345-7" and one["valueQuantity"]["unit"] == "mmol/L"
    assert http.get(f"/fhir/R4/Observation/{one['id']}").json()["id"] == one["id"]
    assert http.get(f"/fhir/R4/Observation?patient=Patient/{cid}&date=lt2024").json()["total"] == 0
    reports = http.get(f"/fhir/R4/DiagnosticReport?patient=Patient/{cid}").json()
    assert reports["total"] == 1 and len(reports["entry"][0]["resource"]["result"]) == 2
    audit = http.get(f"/fhir/R4/AuditEvent?patient=Patient/{cid}").json()
    assert audit["total"] > 0
    for rtype in ("Condition", "QuestionnaireResponse", "RiskAssessment", "Consent", "CarePlan"):
        answer = http.get(f"/fhir/R4/{rtype}?patient=Patient/{cid}")
        assert answer.status_code == 200, rtype
    assert http.get(f"/fhir/R4/CarePlan/{cid}").status_code == 404
    everything = http.get(f"/fhir/R4/Patient/{cid}/$everything").json()
    kinds = {e["resource"]["resourceType"] for e in everything["entry"]}
    assert kinds == {"Patient", "Observation", "DiagnosticReport"}
    reads = LedgerEntry.objects.filter(action="fhir.read", actor_id=str(world.manager.id))
    assert reads.count() == 13  # every answer above but the CarePlan read (nothing to read)
    leaf = json.loads(reads.order_by("-seq").first().leaf)
    assert leaf["detail"]["interaction"] == "everything" and leaf["client"] == str(cid)
    assert "欧阳明月" not in "".join(reads.values_list("leaf", flat=True))


def test_consents_come_out_as_fhir_consent(world, login, member, share_text):
    partnered = register(world)
    consent(world, member.client_id, partnered.partner, share_text)
    found = login(world.manager).get(f"/fhir/R4/Consent?patient=Patient/{member.client_id}").json()
    assert found["total"] == 1 and found["entry"][0]["resource"]["resourceType"] == "Consent"


@pytest.mark.parametrize("who", ["manager_b", "outsider", "admin", "auditor", "analyst", "nurse"])
def test_everyone_else_is_refused_and_it_is_ledgered(world, login, member, who):
    user = getattr(world, who)
    http = login(user)
    cid = member.client_id
    for url in (
        f"/fhir/R4/Patient/{cid}",
        f"/fhir/R4/Observation?patient=Patient/{cid}",
        f"/fhir/R4/Patient/{cid}/$everything",
        f"/fhir/R4/AuditEvent?patient=Patient/{cid}",
    ):
        before = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
        response = http.get(url)
        assert response.status_code == 403, (who, url)
        assert response.json()["resourceType"] == "OperationOutcome"
        assert "欧阳明月" not in response.content.decode()
        after = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
        assert after == before + 1, (who, url)


def test_anonymous_gets_401(client, member):
    response = client.get(f"/fhir/R4/Patient/{member.client_id}")
    assert response.status_code == 401
    assert response.json()["issue"][0]["code"] == "login"


def test_bad_searches_get_a_specific_operation_outcome(world, login, member):
    http = login(world.manager)
    cases = {
        "/fhir/R4/Observation": "patient=Patient",
        f"/fhir/R4/Observation?patient=Patient/{member.client_id}&name=x": "cannot be searched",
        "/fhir/R4/Observation?patient=Patient/nope": "UUID",
        "/fhir/R4/Medication?patient=x": "not served",
        f"/fhir/R4/Observation?patient=Patient/{member.client_id}&date=ge20x": "YYYY",
    }
    for url, words in cases.items():
        response = http.get(url)
        assert response.status_code == 400, url
        assert words in response.json()["issue"][0]["diagnostics"], url
    assert http.get("/fhir/R4/Observation/not-a-uuid").status_code == 404


def test_search_costs_the_same_queries_for_one_or_five_check_ups(world, login):
    http = login(world.manager)
    small = world.enrol()
    big = world.enrol()
    checkup(world, small.client_id, when=WHEN, report_id="S1")
    for year in range(2019, 2024):
        checkup(world, big.client_id, when=WHEN.replace(year=year), report_id=f"B{year}")
    counts = []
    for who in (small, big):
        for path in ("Observation", "DiagnosticReport"):
            http.get(f"/fhir/R4/{path}?patient=Patient/{who.client_id}")  # warm caches
            with CaptureQueriesContext(connection) as queries:
                assert (
                    http.get(f"/fhir/R4/{path}?patient=Patient/{who.client_id}").status_code == 200
                )
            counts.append(len(queries))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts


def test_a_bundle_is_imported_through_the_report_pipeline(world, login, member, settings):
    from careledger.exams.models import ImportJob

    settings.CELERY_TASK_ALWAYS_EAGER = True
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [],
    }
    http = login(world.manager)
    response = http.post("/fhir/R4/", json.dumps(bundle), content_type="application/fhir+json")
    assert response.status_code == 202
    job = ImportJob.objects.get(channel="fhir")
    assert response["Content-Location"] == f"/imports/{job.id}/"
    assert (
        login(world.auditor)
        .post("/fhir/R4/", json.dumps(bundle), content_type="application/fhir+json")
        .status_code
        == 403
    )


def test_a_partner_cannot_import(client, world, member):
    partnered = register(world)
    response = client.post(
        "/fhir/R4/",
        "{}",
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token(client, partnered)}",
    )
    assert response.status_code == 403
