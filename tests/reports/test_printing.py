"""Printing through the services, the page and the API: who may print (the care team's health
manager, doctor and nurse — the nurse's copy masked), who is refused (outsiders, the other care
team, admin, auditor, analyst; each refusal in the ledger), the purpose required, every print
recorded and ledgered with its hash, and `careledger report verify` on the very file."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from careledger.access.enforce import AccessDenied
from careledger.clients.validation import ValidationFailed
from careledger.ledger.models import LedgerEntry
from careledger.reports import services
from careledger.reports.models import ReportPrint
from careledger.reports.seal import DOCUMENT_FILE
from reports.conftest import need_font, pdf_text

pytestmark = pytest.mark.django_db

REFUSED = ["outsider", "manager_b", "admin", "auditor", "analyst"]


@pytest.fixture(autouse=True)
def _font():  # type: ignore[no-untyped-def]
    need_font()


def _content(pdf: bytes) -> dict:
    return json.loads(PdfReader(io.BytesIO(pdf)).attachments[DOCUMENT_FILE][0])


def _last(action: str, user) -> LedgerEntry:  # type: ignore[no-untyped-def]
    return LedgerEntry.objects.filter(action=action, actor_id=str(user.id)).order_by("seq").last()


@pytest.mark.parametrize("who", ["manager", "doctor"])
def test_the_care_team_prints_the_full_report(world, sitting, who, tmp_path):
    user = getattr(world, who)
    printed = services.do_print(actor=user, client_id=sitting.id, purpose="care")
    text = pdf_text(printed.pdf, tmp_path)
    assert "欧阳明月" in text and "13912340000" in text and sitting.document_number in text
    doc = _content(printed.pdf)
    assert doc["print"]["viewer"] == user.shown_name and doc["print"]["purpose_code"] == "care"
    assert [a["code"] for a in doc["abnormal"]][:1] and doc["trends"] and doc["risks"]
    assert doc["advice"]["note"] == "坚持每天快走" and doc["tags"] == ["高血压"]
    assert doc["not_recorded"] == ["stage_summary", "care_plan"]
    row = ReportPrint.objects.get(pk=printed.print_id)
    assert (row.printed_by, row.purpose, row.sha256) == (user, "care", printed.sha256)
    event = _last("report.print", user)
    leaf = json.loads(event.leaf)
    assert leaf["purpose"] == "care" and leaf["client"] == str(sitting.id)
    assert leaf["detail"]["sha256"] == printed.sha256
    assert leaf["seals"][0]["id"] == str(row.id)
    assert "欧阳" not in event.leaf and "13912340000" not in event.leaf


def test_the_nurse_prints_masked_identifiers_only(world, sitting, tmp_path):
    printed = services.do_print(actor=world.nurse, client_id=sitting.id, purpose="client_copy")
    text = pdf_text(printed.pdf, tmp_path)
    for secret in ("欧阳明月", "13912340000", sitting.document_number, sitting.card_number):
        assert secret not in text
        assert secret not in printed.pdf.decode("latin-1")
    doc = _content(printed.pdf)
    assert doc["client"]["name"] == "欧**月" and doc["client"]["phone"] == "139****0000"
    assert doc["client"]["masked"] is True
    assert "欧**月" in text and "139****0000" in text


@pytest.mark.parametrize("who", REFUSED)
def test_everyone_else_is_refused_and_it_is_ledgered(world, sitting, who):
    user = getattr(world, who)
    before = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
    with pytest.raises(AccessDenied):
        services.do_print(actor=user, client_id=sitting.id, purpose="care")
    denied = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied")
    assert denied.count() == before + 1
    assert denied.order_by("seq").last().action == "report.print"
    assert not ReportPrint.objects.exists()


def test_a_purpose_is_required_and_nothing_is_printed_without_one(world, sitting):
    for purpose in ("", "curiosity"):
        with pytest.raises(ValidationFailed) as raised:
            services.do_print(actor=world.manager, client_id=sitting.id, purpose=purpose)
        assert "purpose" in raised.value.errors
    assert not ReportPrint.objects.exists()
    assert not LedgerEntry.objects.filter(action="report.print").exists()


def test_each_print_is_its_own_sealed_copy(world, sitting):
    one = services.do_print(actor=world.manager, client_id=sitting.id, purpose="care")
    two = services.do_print(actor=world.manager, client_id=sitting.id, purpose="referral")
    assert one.print_id != two.print_id and one.sha256 != two.sha256
    assert ReportPrint.objects.filter(client_id=sitting.id).count() == 2


def test_the_verify_command_accepts_the_printed_file_and_rejects_a_tampered_one(
    world, sitting, tmp_path
):
    printed = services.do_print(actor=world.doctor, client_id=sitting.id, purpose="care")
    path = tmp_path / "report.pdf"
    path.write_bytes(printed.pdf)
    out = io.StringIO()
    call_command("report", "verify", str(path), stdout=out)
    result = json.loads(out.getvalue())
    assert result["valid"] and result["sha256"] == printed.sha256
    assert result["checks"] == ["hash", "signature", "pages", "drawing"]
    # The published key, exported, verifies the same file without the database's keys.
    keys = io.StringIO()
    call_command("report", "public-key", stdout=keys)
    key_file = tmp_path / "keys.json"
    key_file.write_text(keys.getvalue())
    qr = json.loads(PdfReader(io.BytesIO(printed.pdf)).attachments["careledger-seal.json"][0])["qr"]
    out = io.StringIO()
    call_command("report", "verify", "--qr", qr, "--public-key", str(key_file), stdout=out)
    scanned = json.loads(out.getvalue())
    assert scanned["print_id"] == printed.print_id.hex and scanned["recorded_here"] is True
    # One byte of the embedded content changed (same length, so the PDF stays readable).
    raw = printed.pdf
    start = raw.index(b"/Type /EmbeddedFile")
    tampered = bytearray(raw)
    reader_doc = _content(raw)
    assert reader_doc  # the attachment is compressed: flip a byte inside its stream instead
    stream = raw.index(b"stream", start) + 8
    tampered[stream + 20] ^= 0x01
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(bytes(tampered))
    with pytest.raises(CommandError) as raised:
        call_command("report", "verify", str(bad))
    assert raised.value.returncode == 1 and "NOT VALID" in str(raised.value)


def test_the_page_previews_and_downloads(world, sitting, login):
    http = login(world.nurse)
    url = f"/clients/{sitting.id}/report/"
    page = http.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and "欧**月" in body and "欧阳明月" not in body
    assert 'name="purpose"' in body
    missing = http.post(url, {"purpose": ""})
    assert missing.status_code == 422
    download = http.post(url, {"purpose": "care"})
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download.content.startswith(b"%PDF")
    assert _last("report.preview", world.nurse) is not None


@pytest.mark.parametrize("who", REFUSED)
def test_the_page_and_api_refuse_everyone_else(world, sitting, login, who):
    http = login(getattr(world, who))
    for url in (
        f"/clients/{sitting.id}/report/",
        f"/api/clients/{sitting.id}/report",
        f"/api/clients/{sitting.id}/report/pdf?purpose=care",
    ):
        response = http.get(url)
        assert response.status_code in {403, 404}, (url, response.status_code)
        assert "欧阳明月" not in response.content.decode(errors="ignore")
    assert not ReportPrint.objects.exists()


def test_the_api_previews_and_prints(world, sitting, login):
    http = login(world.doctor)
    preview = http.get(f"/api/clients/{sitting.id}/report")
    assert preview.status_code == 200
    assert preview.json()["content"]["client"]["name"] == "欧阳明月"
    missing = http.get(f"/api/clients/{sitting.id}/report/pdf")
    assert missing.status_code == 422 and "purpose" in missing.json()["errors"]
    pdf = http.post(f"/api/clients/{sitting.id}/report/pdf?purpose=checkup_review")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert http.get(f"/api/clients/{sitting.id}/report").json()["prints"][0]["purpose"] == (
        "checkup_review"
    )
    keys = http.get("/api/reports/public-key").json()
    assert keys["keys"][0]["key_id"] == ReportPrint.objects.get().key_id


def test_the_preview_costs_the_same_queries_however_much_is_on_record(world, sitting, login):
    import datetime as dt

    from assessment.conftest import checkup

    http = login(world.doctor)
    url = f"/api/clients/{sitting.id}/report"
    http.get(url)
    with CaptureQueriesContext(connection) as before:
        assert http.get(url).status_code == 200
    for year in (2019, 2020, 2021, 2022):
        checkup(world, sitting.id, dt.date(year, 5, 1), sbp=140, fpg=6.1, tc=5.9, bmi=25.0)
    services.do_print(actor=world.doctor, client_id=sitting.id, purpose="care")
    with CaptureQueriesContext(connection) as after:
        assert http.get(url).status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)


def test_without_the_cjk_font_nothing_is_printed_and_the_error_says_why(
    world, sitting, login, settings
):
    settings.CARELEDGER_REPORT_FONT = "/nonexistent/NotoSansCJK.ttc"
    http = login(world.doctor)
    page = http.post(f"/clients/{sitting.id}/report/", {"purpose": "care"})
    assert page.status_code == 503 and "中文字体" in page.content.decode()
    api = http.get(f"/api/clients/{sitting.id}/report/pdf?purpose=care")
    assert api.status_code == 503 and api.json()["detail"] == "report_font_missing"
    assert not ReportPrint.objects.exists()
    assert not LedgerEntry.objects.filter(action="report.print").exists()
