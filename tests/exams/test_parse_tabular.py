"""CSV and XLSX exports: long and wide layouts, encodings, mappings, bad rows."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from parse_helpers import BAD_CHECK, ID_A, ID_B, ID_C, NOW, assert_no_phi_in_problems, fixture

from careledger.exams.parsers.common import SHANGHAI
from careledger.exams.parsers.tabular import (
    ColumnMapping,
    MappingError,
    format_number,
    parse_csv,
    parse_xlsx,
    sniff_mapping,
    split_header_unit,
)
from careledger.exams.parsers.types import FileUnreadable, Reason


def day(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=SHANGHAI)


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def test_long_csv_utf8_bom_sniffed_mapping():
    out = parse_csv(fixture("csv", "long_utf8_bom.csv"), mapping=None, now=NOW)
    assert out.encoding == "utf-8-sig"
    assert out.units_read == 9
    assert [(r.location, r.source_report_id) for r in out.reports] == [
        ("rows 2-6", "TJ-0001"),
        ("rows 9-10", "TJ-0004"),
    ]
    first = out.reports[0]
    assert (first.patient.id_number, first.patient.card_number) == (ID_A, "C0000012")
    assert (first.patient.name, first.patient.sex) == ("李娜", "F")
    assert first.effective_at == day(2024, 3, 1)
    assert [(r.location, r.local_code, r.value, r.unit, r.flag) for r in first.results] == [
        ("row 2", "GLU", "5.6", "mmol/L", ""),
        ("row 3", "CRP", "<0.1", "mg/L", ""),
        ("row 4", "UPRO", "阴性", "", ""),
        ("row 5", "TG", "2.35", "mmol/L", "↑"),
    ]
    assert first.results[3].local_name == "甘油三酯, 血清"  # quoted cell with the delimiter
    problems = sorted((p.location, p.field, p.reason, p.report_index) for p in out.problems)
    assert problems == [
        ("row 10", "结果", Reason.NO_VALUE, 1),
        ("row 6", "结果", Reason.BAD_VALUE, 0),
        ("row 7", "身份证号", Reason.NO_PATIENT_ID, None),
        ("row 8", "体检日期", Reason.FUTURE_DATE, None),
    ]
    assert_no_phi_in_problems(out, ID_A, ID_B, "李娜", "陈建国", "无名氏")


def test_long_csv_gbk_semicolon_groups_by_person_and_date():
    out = parse_csv(fixture("csv", "long_gbk_semicolon.csv"), mapping=None, now=NOW)
    assert out.encoding == "gb18030"
    # No report-id column: (person, date) groups. Row 5 has an ID failing its check digit
    # and no card column: refused.
    assert [(r.location, r.effective_at, len(r.results)) for r in out.reports] == [
        ("rows 2-3", day(2024, 4, 18), 2),
        ("row 4", day(2023, 4, 20), 1),
    ]
    assert all(r.source_report_id == "" for r in out.reports)
    assert [(p.location, p.reason) for p in out.problems] == [("row 5", Reason.BAD_PATIENT_ID)]
    assert out.reports[0].results[1].reference_range == "<5.2"


def test_wide_csv_gb18030_tab_units_from_headers():
    out = parse_csv(fixture("csv", "wide_gb18030_tab.csv"), mapping=None, now=NOW)
    assert out.encoding == "gb18030"
    assert [r.location for r in out.reports] == ["row 2", "row 3"]
    first, second = out.reports
    assert first.patient.card_number == "HZ010000027"
    assert first.patient.name == "周华"  # header " 姓名 " matched after trimming
    assert [(r.local_code, r.value, r.unit, r.location) for r in first.results] == [
        ("空腹血糖", "6.3", "mmol/L", "row 2, column 空腹血糖(mmol/L)"),
        ("收缩压", "142", "mmHg", "row 2, column 收缩压（mmHg）"),
        ("舒张压", "88", "mmHg", "row 2, column 舒张压（mmHg）"),
    ]
    # 电话 and 尿蛋白() carry no unit: never taken for results by the sniffer.
    assert all(r.value != "13900000000" for r in first.results)
    assert second.effective_at == day(2024, 3, 2)  # 2024年3月2日
    assert [r.local_code for r in second.results] == ["收缩压", "舒张压"]  # empty cell skipped
    assert [(p.location, p.field, p.reason) for p in out.problems] == [
        ("row 4", "卡号", Reason.NO_PATIENT_ID),
        ("row 5", "体检日期", Reason.BAD_DATE),
    ]


def test_wide_mapping_with_explicit_units_and_unsniffable_columns():
    mapping = ColumnMapping(
        layout="wide",
        card_number="卡号",
        date="体检日期",
        results={"尿蛋白()": "", "空腹血糖(mmol/L)": "mg/dL"},
    )
    out = parse_csv(fixture("csv", "wide_gb18030_tab.csv"), mapping=mapping, now=NOW)
    first = out.reports[0]
    assert [(r.local_code, r.value, r.unit) for r in first.results] == [
        ("尿蛋白()", "阴性", ""),
        ("空腹血糖", "6.3", "mg/dL"),  # the mapping's unit wins over the header's
    ]


def test_explicit_mapping_full_width_and_spaces_in_headers():
    data = "ＩＤ号 , 日期,项目 ,值\n" + f"{ID_C},2024-01-02,GLU,5.0\n"
    mapping = ColumnMapping(id_number="ID号", date="日期", code="项目", value="值")
    out = parse_csv(data.encode(), mapping=mapping, now=NOW)
    assert out.reports[0].patient.id_number == ID_C
    assert out.reports[0].results[0].value == "5.0"


def test_missing_mapped_column_names_it():
    mapping = ColumnMapping(id_number="身份证号", date="检查时间", code="项目代码", value="结果")
    with pytest.raises(FileUnreadable) as exc:
        parse_csv(fixture("csv", "long_utf8_bom.csv"), mapping=mapping, now=NOW)
    assert exc.value.reason == Reason.UNREADABLE
    assert "'检查时间'" in exc.value.message


def test_unrecognised_headers_without_mapping():
    with pytest.raises(FileUnreadable) as exc:
        parse_csv(b"a,b,c\n1,2,3\n", mapping=None, now=NOW)
    assert exc.value.reason == Reason.UNREADABLE


def test_header_row_option_and_row_numbers():
    data = "某某体检中心导出\n\n身份证号,体检日期,项目名称,结果\n" + f"{ID_A},2024-01-02,血糖,5.0\n"
    mapping = ColumnMapping(
        id_number="身份证号", date="体检日期", item_name="项目名称", value="结果", header_row=3
    )
    out = parse_csv(data.encode(), mapping=mapping, now=NOW)
    assert out.reports[0].location == "row 4"
    assert out.reports[0].results[0].local_code == "血糖"  # the name stands in for a code


def test_invalid_id_with_card_lands_with_warning():
    data = f"身份证号,卡号,体检日期,项目代码,结果\n{BAD_CHECK},C-9,2024-01-02,GLU,5.0\n"
    out = parse_csv(data.encode(), mapping=None, now=NOW)
    (report,) = out.reports
    assert (report.patient.id_number, report.patient.card_number) == ("", "C-9")
    (problem,) = out.problems
    assert (problem.reason, problem.warning, problem.report_index) == (
        Reason.BAD_PATIENT_ID,
        True,
        0,
    )
    assert_no_phi_in_problems(out, BAD_CHECK)


def test_same_report_id_for_another_person_is_refused():
    data = (
        "身份证号,体检号,体检日期,项目代码,结果\n"
        f"{ID_A},T1,2024-01-02,GLU,5.0\n"
        f"{ID_B},T1,2024-01-02,TC,4.0\n"
    )
    out = parse_csv(data.encode(), mapping=None, now=NOW)
    assert len(out.reports) == 1 and len(out.reports[0].results) == 1
    assert [(p.location, p.field, p.reason) for p in out.problems] == [
        ("row 3", "体检号", Reason.MALFORMED)
    ]


def test_csv_syntax_error_stops_with_a_problem():
    # A NUL-free but unterminated quote runs to the end of the file: csv reports it in strict
    # mode only, so the rows before it land either way.
    data = (
        f'身份证号,体检日期,项目代码,结果\n{ID_A},2024-01-02,GLU,5.0\n{ID_A},2024-01-02,"TC,4.0\n'
    )
    out = parse_csv(data.encode(), mapping=None, now=NOW)
    assert out.reports[0].results[0].local_code == "GLU"


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------


def workbook(
    rows: list[list[object]], *, sheet: str = "体检结果", extra_first: bool = False
) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    if extra_first:
        ws.title = "说明"
        ws.append(["本表由体检系统导出"])
        ws = wb.create_sheet(sheet)
    else:
        ws.title = sheet
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


HEAD = ["身份证号", "卡号", "体检日期", "项目代码", "项目名称", "结果", "单位", "参考范围"]


def test_xlsx_dates_as_cells_and_serials_numbers_without_float_noise():
    data = workbook(
        [
            HEAD,
            [
                ID_A,
                "C1",
                dt.datetime(2024, 3, 1, 8, 30),
                "GLU",
                "血糖",
                5.6000000000000005,
                "mmol/L",
                "3.9-6.1",
            ],
            [ID_A, "C1", dt.datetime(2024, 3, 1, 8, 30), "WBC", "白细胞", 6, "10^9/L", "3.5-9.5"],
            [ID_B, None, 45352, "GLU", "血糖", 0.1 + 0.2, "mmol/L", None],
            [ID_C, None, dt.date(2024, 3, 3), "TC", "总胆固醇", "<0.1", "mmol/L", None],
            [None, None, None, None, None, None, None, None],
            [ID_C, None, 12, "TC", "总胆固醇", 4.2, "mmol/L", None],
        ]
    )
    out = parse_xlsx(data, mapping=None, now=NOW)
    assert out.encoding == "xlsx"
    assert out.units_read == 5
    assert [(r.location, r.effective_at) for r in out.reports] == [
        ("rows 2-3", dt.datetime(2024, 3, 1, 8, 30, tzinfo=SHANGHAI)),
        ("row 4", day(2024, 3, 1)),  # serial 45352 (1900 date system)
        ("row 5", day(2024, 3, 3)),
    ]
    assert [r.value for r in out.reports[0].results] == ["5.6", "6"]
    assert out.reports[1].results[0].value == "0.3"
    assert out.reports[2].results[0].value == "<0.1"
    (problem,) = out.problems
    assert (problem.location, problem.field, problem.reason) == (
        "row 7",
        "体检日期",
        Reason.BAD_DATE,
    )


def test_xlsx_named_sheet_and_numeric_card_cells():
    rows = [HEAD, [ID_A, 1234567, "2024-03-01", "GLU", "血糖", "5.1", "mmol/L", ""]]
    data = workbook(rows, extra_first=True)
    mapping = ColumnMapping.from_dict(
        {
            "layout": "long",
            "sheet": "体检结果",
            "id_number": "身份证号",
            "card_number": "卡号",
            "date": "体检日期",
            "code": "项目代码",
            "value": "结果",
        }
    )
    out = parse_xlsx(data, mapping=mapping, now=NOW)
    assert out.reports[0].patient.id_number == ID_A
    assert out.reports[0].patient.card_number == "1234567"
    with pytest.raises(FileUnreadable) as exc:
        parse_xlsx(data, mapping=None, now=NOW)  # the first sheet is the cover note
    assert exc.value.reason == Reason.UNREADABLE
    mapping.sheet = "不存在"
    with pytest.raises(FileUnreadable) as exc:
        parse_xlsx(data, mapping=mapping, now=NOW)
    assert "不存在" in exc.value.message


def test_xlsx_id_number_stored_as_a_number_cell_is_explained():
    rows = [HEAD, [int(ID_A), "C7", "2024-03-01", "GLU", "血糖", "5.1", "mmol/L", ""]]
    out = parse_xlsx(workbook(rows), mapping=None, now=NOW)
    (report,) = out.reports
    assert (report.patient.id_number, report.patient.card_number) == ("", "C7")
    (problem,) = out.problems
    assert (problem.reason, problem.warning) == (Reason.BAD_PATIENT_ID, True)
    assert "number cell" in problem.message
    rows[1][1] = None
    out = parse_xlsx(workbook(rows), mapping=None, now=NOW)
    assert out.reports == []
    assert [(p.field, p.reason, p.warning) for p in out.problems] == [
        ("身份证号", Reason.BAD_PATIENT_ID, False)
    ]


def test_xlsx_wide_layout():
    data = workbook(
        [
            ["卡号", "姓名", "体检日期", "身高(cm)", "体重(kg)", "BMI(kg/m2)"],
            ["K1", "甲", dt.datetime(2024, 1, 2), 172.5, 70, 23.6],
            ["K2", "乙", dt.datetime(2024, 1, 2), 160, None, "abc1"],
        ]
    )
    out = parse_xlsx(data, mapping=None, now=NOW)
    assert [[(r.local_code, r.value, r.unit) for r in rep.results] for rep in out.reports] == [
        [("身高", "172.5", "cm"), ("体重", "70", "kg"), ("BMI", "23.6", "kg/m2")],
        [("身高", "160", "cm")],
    ]
    # Free text in a column with a unit is not a result.
    assert [(p.location, p.field, p.reason, p.report_index) for p in out.problems] == [
        ("row 3, column BMI(kg/m2)", "BMI(kg/m2)", Reason.BAD_VALUE, 1)
    ]


def test_xlsx_wide_bad_cell_is_a_problem_in_its_column():
    data = workbook(
        [
            ["卡号", "体检日期", "身高(cm)", "体重(kg)"],
            ["K2", dt.datetime(2024, 1, 2), 160, "6O.5"],
        ]
    )
    out = parse_xlsx(data, mapping=None, now=NOW)
    assert [r.local_code for r in out.reports[0].results] == ["身高"]
    assert [(p.location, p.field, p.reason, p.report_index) for p in out.problems] == [
        ("row 2, column 体重(kg)", "体重(kg)", Reason.BAD_VALUE, 0)
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 not really a zip",
        b"not a zip at all",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64,
    ],
)
def test_xlsx_that_is_not_a_workbook(data):
    with pytest.raises(FileUnreadable) as exc:
        parse_xlsx(data, mapping=None, now=NOW)
    assert exc.value.reason == Reason.UNREADABLE


# --------------------------------------------------------------------------------------------
# Mapping and helpers
# --------------------------------------------------------------------------------------------


def test_mapping_round_trip_and_validation_errors():
    mapping = ColumnMapping(layout="wide", card_number="卡号", date="日期", results={"血糖": ""})
    assert ColumnMapping.from_dict(mapping.to_dict()) == mapping
    with pytest.raises(MappingError) as exc:
        ColumnMapping.from_dict(
            {"layout": "tall", "date": "", "colour": "red", "header_row": 0, "delimiter": "#"}
        )
    assert set(exc.value.errors) == {"layout", "colour"}
    with pytest.raises(MappingError) as exc:
        ColumnMapping.from_dict({"layout": "long", "header_row": 0, "delimiter": "#"})
    assert set(exc.value.errors) == {
        "id_number",
        "date",
        "value",
        "code",
        "header_row",
        "delimiter",
    }
    with pytest.raises(MappingError) as exc:
        ColumnMapping.from_dict({"layout": "wide", "id_number": "身份证", "date": "日期"})
    assert set(exc.value.errors) == {"results"}
    with pytest.raises(MappingError) as exc:
        ColumnMapping.from_dict(
            {"id_number": "号", "card_number": "号", "date": "日期", "code": "c", "value": "v"}
        )
    assert set(exc.value.errors) == {"card_number"}
    with pytest.raises(MappingError) as exc:
        ColumnMapping.from_dict(["not", "a", "dict"])  # type: ignore[arg-type]
    assert "__all__" in exc.value.errors


def test_sniff_mapping_variants():
    long = sniff_mapping(
        ["身份证号码", "姓名", "检查日期", "检验项目", "检验结果", "参考区间", "异常提示"]
    )
    assert long is not None and long.layout == "long"
    assert (long.id_number, long.date, long.item_name, long.value) == (
        "身份证号码",
        "检查日期",
        "检验项目",
        "检验结果",
    )
    assert (long.reference_range, long.flag) == ("参考区间", "异常提示")
    assert sniff_mapping(["姓名", "检查日期", "结果", "项目"]) is None  # no identifier
    assert sniff_mapping(["卡号", "结果", "项目"]) is None  # no date
    assert sniff_mapping(["卡号", "日期", "备注"]) is None  # wide with no unit column


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5.6000000000000005, "5.6"),
        (0.1 + 0.2, "0.3"),
        (1e-05, "0.00001"),
        (120.0, "120"),
        (7, "7"),
        (-0.0, "0"),
        (123456789012345678, "123456789012345678"),
        (1.5e20, "150000000000000000000"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("header", "split"),
    [
        ("空腹血糖(mmol/L)", ("空腹血糖", "mmol/L")),
        ("收缩压（mmHg）", ("收缩压", "mmHg")),
        ("白细胞[10^9/L]", ("白细胞", "10^9/L")),
        ("身高", ("身高", "")),
        ("(mmol/L)", ("(mmol/L)", "")),
    ],
)
def test_split_header_unit(header, split):
    assert split_header_unit(header) == split
