"""The report page in a real browser (Debian's Chromium): the doctor previews a client's
report and downloads the PDF; the nurse sees and downloads the masked copy. Screenshots in
test-artifacts/screenshots/ (report-page-doctor, report-page-nurse, report-pdf-page-1)."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from pypdf import PdfReader

from careledger.reports.seal import DOCUMENT_FILE
from reports.conftest import need_font, pdf_pngs
from web.browser_kit import SHOTS, launch_chromium
from web.test_browser import Session

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


def _download(session: Session, purpose: str) -> bytes:
    page = session.page
    page.select_option("#purpose", purpose)
    with page.expect_download() as info:
        page.click("#download")
    return open(info.value.path(), "rb").read()


def test_doctor_and_nurse_print_the_report(browser, live_server, transactional_db, world, sitting):  # type: ignore[no-untyped-def]
    need_font()
    doctor = Session(browser, live_server.url)
    doctor.sign_in("doctor")
    doctor.go(f"/clients/{sitting.id}/")
    doctor.page.click("#report-link")
    doctor.page.wait_for_selector("#preview")
    page = doctor.page
    assert "欧阳明月" in page.locator("#client-name").inner_text()
    assert "收缩压" in page.locator("#preview-abnormal").inner_text()
    assert "高血压" in page.locator("#preview-tags").inner_text()
    doctor.shot("report-page-doctor")
    pdf = _download(doctor, "client_copy")
    assert pdf.startswith(b"%PDF")
    for png in pdf_pngs(pdf, SHOTS / "report-pdf", dpi=80, name="doctor"):
        shutil.copy(png, SHOTS / f"report-pdf-{png.stem.split('-')[-1]}.png")
    doctor.go(f"/clients/{sitting.id}/report/")
    assert "交客户本人" in doctor.page.locator("#prints").inner_text()
    doctor.close()

    nurse = Session(browser, live_server.url)
    nurse.sign_in("nurse")
    nurse.go(f"/clients/{sitting.id}/report/")
    page = nurse.page
    assert page.locator("#client-name").inner_text() == "欧**月"
    assert "欧阳明月" not in page.content() and "13912340000" not in page.content()
    nurse.shot("report-page-nurse")
    pdf = _download(nurse, "care")
    doc = json.loads(PdfReader(io.BytesIO(pdf)).attachments[DOCUMENT_FILE][0])
    assert doc["client"]["name"] == "欧**月" and doc["print"]["role"] == "随访护士"
    nurse.close()
