"""The report-sync pages: upload and history, the job page and its live progress, the size limit
enforced before the body is read, and who may reach which page."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from careledger.clients.models import Client
from careledger.exams import services
from careledger.exams.models import ImportJob
from careledger.ledger.models import LedgerEntry
from careledger.observations.models import Observation
from conftest import login_verified, make_citizen_id

pytestmark = pytest.mark.django_db

BIRTH = dt.date(1968, 7, 9)
SOURCE = "城东体检中心"
GLUCOSE = "OBX|1|NM|2345-7^葡萄糖^LN||110|mg/dL|70-110|H|||F"
ALT = "OBX|2|NM|1742-6^ALT^LN||30|U/L|0-40||||F"
UNKNOWN = "OBX|3|NM|ZZ9^谷丙转氨酶(新法)^L||12|U/L|||||F"


def hl7_message(number: str, *obx: str, order: str = "A100", name: str = "上官^燕") -> str:
    lines = [
        "MSH|^~\\&|LIS|CENTRE|CL|1001|20240506083000||ORU^R01|MSG1|P|2.5.1|||||CHN|UNICODE UTF-8",
        f"PID|1||{number}^^^^NI||{name}||19680709|F",
        f"OBR|1|{order}|{order}|CHK^体检|||20240506083000",
        *obx,
    ]
    return "\r".join(lines) + "\r"


def hl7(number: str, *obx: str, **kw: str) -> bytes:
    return hl7_message(number, *obx, **kw).encode("utf-8")


@pytest.fixture
def person(world):  # type: ignore[no-untyped-def]
    number = make_citizen_id(BIRTH, "F", 21)
    enrolled = world.enrol(document_number=number, name="上官燕", sex="F", birth_date=BIRTH)
    return Client.objects.get(pk=enrolled.client_id), number, enrolled.card_number


@pytest.fixture
def eager(settings):  # type: ignore[no-untyped-def]
    """Celery runs the job inline (after the upload's transaction commits)."""
    from careledger.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def var_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.CARELEDGER_VAR_DIR = tmp_path
    return tmp_path


def run(actor, data: bytes, **kw) -> ImportJob:  # type: ignore[no-untyped-def]
    job = services.do_create_import(
        actor=actor, filename=kw.pop("filename", "r.hl7"), data=data, enqueue=False, **kw
    )
    return services.run_import(job.id)


def upload(http, data: bytes, filename: str = "r.hl7", **fields: str):  # type: ignore[no-untyped-def]
    form = {"source": "__new__", "new_source": SOURCE, "format": "", **fields}
    return http.post("/imports/", {"file": SimpleUploadedFile(filename, data), **form})


def denials(user) -> int:  # type: ignore[no-untyped-def]
    return LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()


# --- upload, job page, history ---------------------------------------------------------------


def test_an_uploaded_hl7_file_runs_and_the_job_page_shows_its_summary(
    world, person, login, eager, var_dir, django_capture_on_commit_callbacks
):
    client, number, _card = person
    http = login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(http, hl7(number, GLUCOSE, ALT, UNKNOWN), filename="上官燕.hl7")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.id}/"
    assert (job.status, job.imported, job.quarantined, job.source.name) == ("done", 2, 1, SOURCE)
    assert Observation.objects.filter(client=client).count() == 2
    page = http.get(f"/imports/{job.id}/").content.decode()
    assert "hx-trigger" not in page  # finished: no polling
    assert "汇总" in page and "已入库" in page and "未知项目代码" in page
    assert "指标目录中没有对应条目" in page  # the reason's one-line explanation
    assert f"/imports/quarantine/?job={job.id}" in page
    assert "上官燕.hl7" in page  # the uploader sees their file's name
    assert "utf-8" in page.lower()  # the encoding detected
    upload_event = LedgerEntry.objects.get(action="exam.import.upload")
    assert upload_event.actor_id == str(world.manager.id)
    history = http.get("/imports/").content.decode()
    assert f"/imports/{job.id}/" in history and SOURCE in history


def test_the_file_name_is_shown_only_to_whoever_uploaded_it(world, person, login):
    _client, number, _card = person
    job = run(world.manager, hl7(number, GLUCOSE), filename="上官燕-体检.hl7")
    assert "上官燕-体检.hl7" in login(world.manager).get(f"/imports/{job.id}/").content.decode()
    other = login(world.admin).get(f"/imports/{job.id}/").content.decode()
    assert "上官燕" not in other and number not in other


def test_a_csv_export_uploads_and_lands(
    world, person, login, eager, django_capture_on_commit_callbacks
):
    client, number, _card = person
    csv = (
        "\ufeff体检号,身份证号,姓名,体检日期,项目代码,项目名称,结果,单位,参考范围\n"
        f"TJ1,{number},上官燕,2023-04-01,2345-7,空腹血糖,6.2,mmol/L,3.9-6.1\n"
        f"TJ1,{number},上官燕,2023-04-01,1742-6,谷丙转氨酶,22,U/L,7-40\n"
    ).encode()
    http = login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(http, csv, filename="export.csv")
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.format, job.status, job.imported) == ("csv", "done", 2)
    assert Observation.objects.filter(client=client, code="2345-7").exists()
    page = http.get(response["Location"]).content.decode()
    assert "CSV" in page


def test_uploading_again_says_the_file_was_imported_before(world, person, login):
    _client, number, _card = person
    data = hl7(number, GLUCOSE)
    run(world.manager, data)
    again = run(world.manager, data)
    page = login(world.manager).get(f"/imports/{again.id}/").content.decode()
    assert "此文件之前已导入过 1 次" in page
    assert again.duplicates == 1


def test_the_job_page_polls_while_the_job_runs_and_stops_when_it_is_done(
    world, person, login, settings, monkeypatch
):
    _client, number, _card = person
    settings.CARELEDGER_IMPORT_BATCH = 1  # progress is saved after every report
    data = (
        hl7_message(number, GLUCOSE, order="A1") + hl7_message(number, ALT, order="A2")
    ).encode()
    job = services.do_create_import(actor=world.manager, filename="r.hl7", data=data, enqueue=False)
    http = login(world.manager)
    queued = http.get(f"/imports/{job.id}/").content.decode()
    assert f'hx-get="/imports/{job.id}/progress/"' in queued and 'hx-trigger="every 1s"' in queued
    assert "等待后台处理" in queued

    seen: list[str] = []
    real = services.land_reports

    def land_and_look(**kw):  # type: ignore[no-untyped-def]
        tally = real(**kw)
        seen.append(http.get(f"/imports/{job.id}/progress/").content.decode())
        return tally

    monkeypatch.setattr(services, "land_reports", land_and_look)
    services.run_import(job.id)
    # After the first report: still running, one of two done, polling on.
    first = seen[0]
    assert "<html" not in first and 'hx-trigger="every 1s"' in first
    assert 'max="2" value="0"' in first or 'max="2" value="1"' in first
    assert "正在导入" in first
    done = http.get(f"/imports/{job.id}/progress/").content.decode()
    assert "hx-trigger" not in done and "汇总" in done
    assert 'id="job-status"' in done  # replaces the polling element in place


def test_a_200_mb_upload_is_refused_from_its_length_without_reading_it(world, login, var_dir):
    body = LazyMultipart(200 * 1024 * 1024)
    http = login(world.manager)
    response = http.request(
        PATH_INFO="/imports/",
        REQUEST_METHOD="POST",
        CONTENT_TYPE=f"multipart/form-data; boundary={body.boundary}",
        CONTENT_LENGTH=str(body.length),
        **{"wsgi.input": body},
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "文件未导入" in page and "文件过大" in page
    assert "文件大小为 200.0 MB，上限为 50 MB" in page
    assert body.bytes_read == 0  # not one byte of the body was read
    assert ImportJob.objects.count() == 0
    assert not (var_dir / "imports").exists()


def test_a_file_just_over_the_limit_is_refused_before_it_is_read(world, login, settings, var_dir):
    settings.CARELEDGER_IMPORT_MAX_MB = 1
    data = b"MSH|^~\\&|" + b"x" * (1024 * 1024 + 100 * 1024)  # 1.1 MB: inside the framing slack
    response = upload(login(world.manager), data, filename="big.hl7")
    assert response.status_code == 400
    page = response.content.decode()
    assert "文件过大" in page and "上限为 1 MB" in page
    assert ImportJob.objects.count() == 0
    assert not (var_dir / "imports").exists()


def test_the_upload_form_still_checks_csrf(world):
    http = login_verified(HttpClient(enforce_csrf_checks=True), world.manager)
    response = http.post("/imports/", {"file": SimpleUploadedFile("r.hl7", b"MSH|^~\\&|x")})
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0


def test_a_file_that_is_no_report_is_refused_with_the_reason(world, login, var_dir):
    response = upload(login(world.manager), b"\x00\x01\x02 not a report", filename="x.bin")
    assert response.status_code == 400
    page = response.content.decode()
    assert "文件未导入" in page and "文件无法读取" in page
    assert ImportJob.objects.count() == 0


def test_a_new_source_needs_a_name(world, login):
    response = upload(login(world.manager), b"MSH|^~\\&|x", new_source="  ")
    assert response.status_code == 200
    assert "请选择来源，或填写新来源名称" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_the_upload_uses_an_existing_source_and_its_format(world, person, login):
    _client, number, _card = person
    run(world.manager, hl7(number, GLUCOSE), source_name="西区中心")
    http = login(world.manager)
    page = http.get("/imports/").content.decode()
    assert '<option value="西区中心"' in page
    response = upload(http, hl7(number, ALT, order="B2"), source="西区中心", new_source="")
    assert response.status_code == 302
    assert ImportJob.objects.filter(source__name="西区中心").count() == 2


# --- who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["doctor", "nurse", "auditor", "analyst"])
def test_roles_without_the_import_permission_get_no_import_page(world, person, login, who):
    _client, number, _card = person
    job = run(world.manager, hl7(number, GLUCOSE))
    user = getattr(world, who)
    http = login(user)
    for url in ("/imports/", f"/imports/{job.id}/", f"/imports/{job.id}/progress/"):
        before = denials(user)
        response = http.get(url)
        assert response.status_code == 403, url
        assert denials(user) == before + 1, url
    before = denials(user)
    assert upload(http, hl7(number, ALT)).status_code == 403
    assert denials(user) == before + 1
    assert ImportJob.objects.count() == 1


def test_another_institution_sees_neither_the_history_nor_the_job(world, person, login):
    _client, number, _card = person
    job = run(world.manager, hl7(number, GLUCOSE))
    http = login(world.outsider)
    history = http.get("/imports/")
    assert history.status_code == 200 and str(job.id) not in history.content.decode()
    assert SOURCE not in history.content.decode()
    assert http.get(f"/imports/{job.id}/").status_code == 404
    assert http.get(f"/imports/{job.id}/progress/").status_code == 404


def test_the_admin_runs_imports_but_is_not_offered_the_quarantine(world, person, login):
    _client, number, _card = person
    job = run(world.manager, hl7(number, UNKNOWN))
    page = login(world.admin).get(f"/imports/{job.id}/").content.decode()
    assert "未知项目代码" in page
    assert "/imports/quarantine/" not in page


def test_the_menu_offers_report_sync_and_code_mapping_to_whom_it_concerns(world, login):
    manager = login(world.manager).get("/").content.decode()
    assert 'href="/imports/"' in manager and 'href="/config/codes/"' not in manager
    admin = login(world.admin).get("/").content.decode()
    assert 'href="/imports/"' in admin and 'href="/config/codes/"' in admin
    doctor = login(world.doctor).get("/").content.decode()
    assert 'href="/imports/"' not in doctor and 'href="/config/codes/"' not in doctor


def test_the_history_costs_the_same_queries_for_many_jobs(world, person, login):
    _client, number, _card = person
    http = login(world.manager)
    run(world.manager, hl7(number, GLUCOSE))
    http.get("/imports/")
    with CaptureQueriesContext(connection) as few:
        http.get("/imports/")
    for i in range(6):
        run(world.admin, hl7(number, ALT, order=f"Q{i}"), source_name=f"来源{i}")
    with CaptureQueriesContext(connection) as many:
        page = http.get("/imports/")
    assert page.content.decode().count('class="client-link"') == 7
    assert len(many) == len(few)


# --- a body that claims to be huge and is only made when read --------------------------------


class LazyMultipart(io.RawIOBase):
    """A multipart upload of `size` bytes of file content that exists only as it is read, and
    counts what was read (so a test can prove the server never read it)."""

    boundary = "----careledger" + uuid.uuid4().hex

    def __init__(self, size: int) -> None:
        self.head = (
            f"--{self.boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="big.hl7"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.size = size
        self.length = len(self.head) + size + len(self.tail)
        self.position = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def _byte_at(self, start: int, n: int) -> bytes:
        out = bytearray()
        end = min(self.length, start + n)
        while start < end:
            if start < len(self.head):
                piece = self.head[start : min(end, len(self.head))]
            elif start < len(self.head) + self.size:
                piece = b"x" * (min(end, len(self.head) + self.size) - start)
            else:
                offset = start - len(self.head) - self.size
                piece = self.tail[offset : offset + end - start]
            out += piece
            start += len(piece)
        return bytes(out)

    def read(self, n: int = -1) -> bytes:
        n = self.length - self.position if n is None or n < 0 else n
        data = self._byte_at(self.position, n)
        self.position += len(data)
        self.bytes_read += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:  # type: ignore[override]
        return self.read(size if size and size > 0 else 65536)
