"""Import sources (/config/sources/): the admin saves a source with its column mapping (checked
by the parser's own ColumnMapping, errors per field), detects the columns from a sample file's
header row, and a source that has imported keeps its name. Nobody else may."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from careledger.exams.models import ImportSource
from careledger.exams.parsers.tabular import ColumnMapping
from careledger.ledger.models import LedgerEntry
from exams.test_import_pages import GLUCOSE, denials, hl7, run

pytestmark = pytest.mark.django_db

LONG_MAPPING = {
    "layout": "long",
    "id_number": "证件号",
    "date": "检验日期",
    "code": "代码",
    "value": "结果值",
    "unit": "单位",
}


def form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "action": "save",
        "name": "南山体检",
        "format": "csv",
        "is_active": "on",
        "layout": "long",
        "header_row": "1",
        "delimiter": "",
        "encoding": "",
        "sheet": "",
        "results": "",
    }
    for field in (
        *("id_number", "card_number", "name", "sex", "birth_date", "report_id", "date"),
        *("code", "item_name", "value", "unit", "reference_range", "flag"),
    ):
        data["col_" + field] = ""
    for key, value in overrides.items():
        data[key if key in data else "col_" + key] = value
    return data


def test_the_admin_saves_a_csv_source_with_its_column_mapping(world, login):
    http = login(world.admin)
    assert http.get("/config/sources/new/").status_code == 200
    mapping = {k: v for k, v in LONG_MAPPING.items() if k != "layout"}
    response = http.post("/config/sources/new/", form(**mapping, col_name="姓名"))
    assert response.status_code == 302 and response["Location"] == "/config/sources/"
    source = ImportSource.objects.get(name="南山体检")
    assert source.format == "csv"
    saved = ColumnMapping.from_dict(source.column_mapping)
    assert (saved.id_number, saved.date, saved.code, saved.value, saved.name) == (
        "证件号",
        "检验日期",
        "代码",
        "结果值",
        "姓名",
    )
    event = LedgerEntry.objects.get(action="exam.source.create")
    assert event.actor_id == str(world.admin.id)
    listing = http.get("/config/sources/").content.decode()
    assert "南山体检" in listing and "纵向" in listing


def test_an_unusable_mapping_is_refused_field_by_field(world, login):
    response = login(world.admin).post(
        "/config/sources/new/", form(id_number="证件号", code="代码")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "map the exam date column" in page  # beside the date field
    assert "map the result value column" in page
    assert 'id="id_col_date_err"' in page and 'id="id_col_value_err"' in page
    assert not ImportSource.objects.exists()


def test_a_wide_layout_takes_its_result_columns_one_per_line(world, login):
    response = login(world.admin).post(
        "/config/sources/new/",
        form(
            layout="wide",
            card_number="卡号",
            date="日期",
            results="空腹血糖(mmol/L)\n收缩压 = mmHg\n",
            delimiter="tab",
        ),
    )
    assert response.status_code == 302
    mapping = ImportSource.objects.get().column_mapping
    assert mapping["results"] == {"空腹血糖(mmol/L)": "", "收缩压": "mmHg"}
    assert mapping["delimiter"] == "\t"


def test_columns_are_detected_from_a_sample_files_headers(world, login):
    sample = "身份证号,姓名,体检日期,项目代码,项目名称,结果,单位,参考范围\n1,2,3,4,5,6,7,8\n"
    response = login(world.admin).post(
        "/config/sources/new/",
        {
            **form(format=""),
            "action": "detect",
            "sample": SimpleUploadedFile("sample.csv", sample.encode("gb18030")),
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="col_id_number"' in page and 'value="身份证号"' in page
    assert 'value="体检日期"' in page and 'value="项目代码"' in page and 'value="结果"' in page
    assert '<option value="csv" selected>' in page  # the format, detected from the content
    assert "识别到的表头" in page
    assert not ImportSource.objects.exists()  # nothing saved, nothing imported


def test_an_xlsx_sample_is_read_for_its_headers(world, login):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["卡号", "体检日期", "空腹血糖(mmol/L)", "总胆固醇(mmol/L)"])
    sheet.append(["C1", "2024-01-01", 5.6, 4.2])
    buffer = io.BytesIO()
    book.save(buffer)
    response = login(world.admin).post(
        "/config/sources/new/",
        {
            **form(format="xlsx"),
            "action": "detect",
            "sample": SimpleUploadedFile("s.xlsx", buffer.getvalue()),
        },
    )
    page = response.content.decode()
    assert '<option value="wide" selected>' in page
    assert "空腹血糖(mmol/L)" in page and 'value="卡号"' in page


def test_a_sample_that_is_no_table_says_so(world, login):
    response = login(world.admin).post(
        "/config/sources/new/",
        {**form(), "action": "detect", "sample": SimpleUploadedFile("x.hl7", b"MSH|^~\\&|A|B")},
    )
    assert "样例文件不是 CSV 或 XLSX 导出文件" in response.content.decode()


def test_a_source_that_has_imported_keeps_its_name(world, login, settings):
    number = "110101199003071234"
    run(world.manager, hl7(number, GLUCOSE), source_name="东区")
    source = ImportSource.objects.get(name="东区")
    http = login(world.admin)
    page = http.get(f"/config/sources/{source.id}/").content.decode()
    assert "名称不能再修改" in page
    response = http.post(f"/config/sources/{source.id}/", form(name="东区二部", format="hl7v2"))
    assert response.status_code == 200
    assert "keeps its name" in response.content.decode()
    source.refresh_from_db()
    assert source.name == "东区"
    # Other changes are fine, and ledgered with what was before.
    response = http.post(f"/config/sources/{source.id}/", form(name="东区", format="hl7v2"))
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.format == "hl7v2" and source.column_mapping == {}
    assert LedgerEntry.objects.filter(action="exam.source.update").exists()


def test_two_sources_cannot_share_a_name(world, login):
    ImportSource.objects.create(institution=world.inst, name="南山体检")
    response = login(world.admin).post("/config/sources/new/", form(format="hl7v2"))
    assert "another source already has this name" in response.content.decode()
    assert ImportSource.objects.count() == 1


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "auditor", "analyst", "outsider"])
def test_only_the_admin_configures_sources(world, login, who):
    source = ImportSource.objects.create(institution=world.inst, name="南山体检")
    user = getattr(world, who)
    http = login(user)
    before = denials(user)
    for url in ("/config/sources/", "/config/sources/new/", f"/config/sources/{source.id}/"):
        assert http.get(url).status_code == 403, url
    assert http.post("/config/sources/new/", form(name="偷偷加的")).status_code == 403
    assert denials(user) == before + 4
    assert ImportSource.objects.count() == 1


def test_a_source_of_another_institution_is_not_found(world, login):
    other = ImportSource.objects.create(institution=world.other_inst, name="外院")
    assert login(world.admin).get(f"/config/sources/{other.id}/").status_code == 404
