"""Report sync on the JSON API: upload (session or bearer token), the job's status and summary,
its quarantine under the page's own rules, and an oversized body refused unread."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.test_clients_api import bearer
from careledger.clients.models import Client
from careledger.exams.models import ImportJob
from careledger.ledger.models import LedgerEntry
from conftest import make_citizen_id
from exams.test_import_pages import ALT, GLUCOSE, UNKNOWN, LazyMultipart, denials, hl7, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(world):  # type: ignore[no-untyped-def]
    birth = dt.date(1968, 7, 9)
    number = make_citizen_id(birth, "F", 21)
    enrolled = world.enrol(document_number=number, name="上官燕", sex="F", birth_date=birth)
    return Client.objects.get(pk=enrolled.client_id), number


@pytest.fixture
def eager(settings):  # type: ignore[no-untyped-def]
    from careledger.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def post_file(http, data: bytes, **fields):  # type: ignore[no-untyped-def]
    headers = fields.pop("headers", {})
    return http.post(
        "/api/imports/", {"file": SimpleUploadedFile("r.hl7", data), **fields}, **headers
    )


def test_upload_then_status_summary_and_quarantine(
    world, person, login, eager, django_capture_on_commit_callbacks
):
    _client, number = person
    http = login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(http, hl7(number, GLUCOSE, ALT, UNKNOWN), source="城东体检中心")
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["status"], created["format"], created["source"]) == (
        "queued",
        "hl7v2",
        "城东体检中心",
    )
    job = http.get(f"/api/imports/{created['id']}").json()
    assert job["status"] == "done" and job["channel"] == "api"
    assert job["progress"] == {"units_done": 1, "units_total": 1}
    assert job["summary"]["imported"] == 2 and job["summary"]["quarantined"] == 1
    assert job["summary"]["by_reason"] == {"unknown_code": 1}
    assert job["previous_imports"] == 0 and job["encoding"]
    assert "filename" not in job  # a file name can name a person: not on the API
    items = http.get(f"/api/imports/{created['id']}/quarantine").json()
    assert [(i["reason"], i["local_code"], i["value"], i["unit"]) for i in items] == [
        ("unknown_code", "ZZ9", "12", "U/L")
    ]
    assert items[0]["patient_id_number"] == number  # a manager of the client's team
    assert LedgerEntry.objects.filter(action="exam.import.upload").count() == 1


def test_a_bearer_token_uploads_too(world, person, client):
    _client, number = person
    response = post_file(client, hl7(number, GLUCOSE), headers=bearer(world.manager))
    assert response.status_code == 201
    job = ImportJob.objects.get()
    assert job.created_by == world.manager and job.channel == "api"


def test_a_200_mb_body_is_refused_unread(world, login, settings, tmp_path):
    settings.CARELEDGER_VAR_DIR = tmp_path
    body = LazyMultipart(200 * 1024 * 1024)
    response = login(world.manager).request(
        PATH_INFO="/api/imports/",
        REQUEST_METHOD="POST",
        CONTENT_TYPE=f"multipart/form-data; boundary={body.boundary}",
        CONTENT_LENGTH=str(body.length),
        **{"wsgi.input": body},
    )
    assert response.status_code == 413
    assert response.json()["reason"] == "too_large"
    assert "the file is 200.0 MB; the limit is 50 MB" in response.json()["message"]
    assert body.bytes_read == 0
    assert ImportJob.objects.count() == 0 and not (tmp_path / "imports").exists()


def test_an_oversized_body_from_someone_not_allowed_is_refused_as_such(world, login):
    body = LazyMultipart(200 * 1024 * 1024)
    response = login(world.doctor).request(
        PATH_INFO="/api/imports/",
        REQUEST_METHOD="POST",
        CONTENT_TYPE=f"multipart/form-data; boundary={body.boundary}",
        CONTENT_LENGTH=str(body.length),
        **{"wsgi.input": body},
    )
    assert response.status_code == 403 and body.bytes_read == 0


def test_a_file_over_the_limit_is_refused(world, login, settings):
    settings.CARELEDGER_IMPORT_MAX_MB = 1
    response = post_file(login(world.manager), b"MSH|^~\\&|" + b"x" * (1024 * 1024 + 1000))
    assert response.status_code == 413 and response.json()["reason"] == "too_large"
    assert ImportJob.objects.count() == 0


def test_bad_requests_get_specific_errors(world, login):
    http = login(world.manager)
    no_file = http.post("/api/imports/", {"source": "x"})
    assert no_file.status_code == 422 and "file" in no_file.json()["message"]
    bad_format = post_file(http, b"MSH|^~\\&|x", format="pdf")
    assert bad_format.status_code == 422 and "format" in bad_format.json()["message"]
    junk = post_file(http, b"\x00\x01 nothing")
    assert junk.status_code == 422 and junk.json()["reason"] == "unreadable"
    assert ImportJob.objects.count() == 0


@pytest.mark.parametrize("who", ["doctor", "nurse", "auditor", "analyst"])
def test_roles_without_the_import_right_are_refused(world, person, login, who):
    _client, number = person
    job = run(world.manager, hl7(number, GLUCOSE))
    user = getattr(world, who)
    http = login(user)
    before = denials(user)
    assert post_file(http, hl7(number, ALT)).status_code == 403
    assert http.get(f"/api/imports/{job.id}").status_code == 403
    assert http.get(f"/api/imports/{job.id}/quarantine").status_code == 403
    assert denials(user) == before + 3
    assert ImportJob.objects.count() == 1


def test_the_admin_reads_the_job_but_not_its_quarantine(world, person, login):
    _client, number = person
    job = run(world.manager, hl7(number, UNKNOWN))
    http = login(world.admin)
    assert http.get(f"/api/imports/{job.id}").json()["summary"]["quarantined"] == 1
    before = denials(world.admin)
    response = http.get(f"/api/imports/{job.id}/quarantine")
    assert response.status_code == 403 and number not in response.content.decode()
    assert denials(world.admin) == before + 1


def test_manager_b_and_other_institutions_see_nothing_of_team_a(world, person, login):
    _client, number = person
    job = run(world.manager, hl7(number, UNKNOWN))
    assert login(world.manager_b).get(f"/api/imports/{job.id}/quarantine").json() == []
    outsider = login(world.outsider)
    assert outsider.get(f"/api/imports/{job.id}").status_code == 404
    assert outsider.get(f"/api/imports/{job.id}/quarantine").status_code == 404


def test_an_unknown_job_is_not_found(world, login):
    http = login(world.manager)
    missing = "00000000-0000-4000-8000-000000000000"
    assert http.get(f"/api/imports/{missing}").status_code == 404
    assert http.get(f"/api/imports/{missing}/quarantine").status_code == 404


def test_a_token_upload_needs_no_csrf_but_a_session_upload_does(world, person):
    """With CSRF enforced as in production: a bearer token is no ambient credential, so its
    call passes; the browser session's call without the CSRF token is refused."""
    from django.test import Client as HttpClient

    from conftest import login_verified

    _client, number = person
    token_call = post_file(
        HttpClient(enforce_csrf_checks=True), hl7(number, GLUCOSE), headers=bearer(world.manager)
    )
    assert token_call.status_code == 201, token_call.content
    session = login_verified(HttpClient(enforce_csrf_checks=True), world.manager)
    assert post_file(session, hl7(number, ALT, order="B1")).status_code == 403
    assert ImportJob.objects.count() == 1
