"""HL7 v2 ORU^R01: vendor styles as fixtures, malformed input built in the test."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from parse_helpers import (
    BAD_CHECK,
    ID_A,
    ID_B,
    ID_C,
    ID_D,
    NOW,
    assert_no_phi_in_problems,
    fixture,
    oru,
)

from careledger.exams.parsers.common import SHANGHAI
from careledger.exams.parsers.hl7v2 import parse_hl7
from careledger.exams.parsers.types import FileUnreadable, Reason


def reasons(outcome):  # type: ignore[no-untyped-def]
    return [(p.location, p.reason) for p in outcome.problems]


# --------------------------------------------------------------------------------------------
# Vendor styles
# --------------------------------------------------------------------------------------------


def test_mindray_style_gb18030_two_panels_one_report():
    out = parse_hl7(fixture("hl7", "mindray_gb18030.hl7"), now=NOW)
    assert out.encoding == "gb18030"
    assert out.units_read == 1
    assert out.problems == []
    (report,) = out.reports
    # ID number from PID-19, card from the MR-typed PID-3.
    assert report.patient.id_number == ID_D
    assert report.patient.card_number == "HY0012345"
    assert report.patient.name == "王小明"
    assert (report.patient.sex, report.patient.birth_date) == ("M", dt.date(1980, 1, 1))
    assert report.source_report_id == "S240315-88"  # OBR-3 filler of the first OBR
    assert report.effective_at == dt.datetime(2024, 3, 15, 8, 15, tzinfo=SHANGHAI)
    assert report.sending_facility == "迈瑞检验科"
    # Both OBR groups are panels of the one report.
    assert [r.local_code for r in report.results] == [
        "GLU",
        "ALT",
        "TC",
        "CREA",
        "WBC",
        "HGB",
        "UPRO",
    ]
    glu = report.results[0]
    assert (glu.local_name, glu.value, glu.unit, glu.reference_range, glu.flag) == (
        "葡萄糖",
        "6.8",
        "mmol/L",
        "3.9-6.1",
        "H",
    )
    assert glu.coding_system == ""  # 99MR is the vendor's own code system
    assert glu.effective_at == dt.datetime(2024, 3, 15, 9, 0, tzinfo=SHANGHAI)  # OBX-14
    assert report.results[2].reference_range == "<5.2"
    # "10^9/L" written unescaped splits into components; it is put back together.
    assert report.results[4].unit == "10^9/L"
    # CE-coded qualitative result: the text component.
    assert report.results[6].value == "阴性"
    assert report.results[3].flag == ""


def test_roche_style_sn_values_nte_corrections_and_cancelled_result():
    out = parse_hl7(fixture("hl7", "roche_cobas_utf8.hl7"), now=NOW)
    assert out.encoding == "utf-8"
    (report,) = out.reports
    assert report.patient.id_number == ID_A
    assert report.patient.card_number == "C0000012"
    assert report.patient.name == "李娜"
    assert report.patient.sex == "F"
    assert report.source_report_id == "FL-5511"
    assert report.effective_at == dt.datetime(2024, 5, 20, 8, 15, tzinfo=SHANGHAI)
    assert report.note == "标本轻度溶血"  # NTE right after OBR
    values = {r.local_code: r for r in report.results}
    assert values["1988-5"].value == "<0.5"  # SN <^0.5
    assert values["4548-4"].value == "5.6"  # SN ^5.6
    assert values["5196-1"].value == "1:128"  # SN ^1^:^128
    assert values["2093-3"].coding_system == "LN"
    assert values["2571-8"].status == "corrected"
    assert values["2571-8"].note == "复查后更正"  # NTE after that OBX
    assert report.status == "corrected"
    # OBX-11 X: not imported, reported against the emitted report.
    (problem,) = out.problems
    assert problem.location == "message 1, OBX 6"
    assert (problem.field, problem.reason, problem.report_index) == ("OBX-11", Reason.CANCELLED, 0)
    assert "14933-6" not in values


def test_v23_newline_terminated_without_ranges_flags_or_units():
    out = parse_hl7(fixture("hl7", "v23_lf_no_ranges.hl7"), now=NOW)
    assert out.problems == []
    (report,) = out.reports
    assert report.patient.id_number == ID_B  # PID-2 in this vendor
    assert report.patient.card_number == "TJ7788"  # untyped PID-3: the centre's number
    assert report.patient.sex == "M"  # GB/T 2261.1 code 1
    assert report.effective_at == dt.datetime(2023, 6, 11, 9, 30, tzinfo=SHANGHAI)
    by_code = {r.local_code: r for r in report.results}
    assert by_code["ECG01"].value == "窦性心律\n心电轴不偏|正常心电图"  # \.br\ and \F\
    assert by_code["US01"].value == "肝^胆^脾未见异常 " + bytes.fromhex("E88385").decode()
    assert (by_code["HT"].value, by_code["HT"].unit) == ("172.5", "cm")
    assert (by_code["WT"].unit, by_code["WT"].reference_range, by_code["WT"].flag) == ("", "", "")


def test_mllp_framed_batch_of_three():
    out = parse_hl7(fixture("hl7", "mllp_batch3.hl7"), now=NOW)
    assert out.units_read == 3
    assert out.problems == []
    assert [r.patient.id_number for r in out.reports] == [ID_A, ID_B, ID_C]
    assert [r.index for r in out.reports] == [0, 1, 2]
    assert [r.location for r in out.reports] == ["message 1", "message 2", "message 3"]
    assert [r.results[0].value for r in out.reports] == ["5.1", "7.9", "<2.2"]


def test_custom_encoding_characters():
    out = parse_hl7(fixture("hl7", "custom_encoding_chars.hl7"), now=NOW)
    assert out.problems == []
    (report,) = out.reports
    assert (report.patient.id_number, report.patient.card_number) == (ID_C, "K-778")
    assert report.patient.name == "周华"
    assert report.effective_at == dt.datetime(2024, 2, 2, 9, 0, tzinfo=SHANGHAI)
    glu, note = report.results
    assert (glu.local_code, glu.local_name, glu.coding_system, glu.value) == (
        "GLU",
        "葡萄糖",
        "LN",
        "5.3",
    )
    # \F\ and \S\ render as this message's own separators ($ and %).
    assert note.value == "含$竖线%与百分号"


def test_timestamp_with_zone_and_without_seconds():
    data = oru(obr="OBR|1||R-1|X|||202401050800+0100").encode()
    (report,) = parse_hl7(data, now=NOW).reports
    assert report.effective_at == dt.datetime(
        2024, 1, 5, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))
    )


def test_obx14_then_msh7_when_obr7_missing():
    data = oru(
        obr="OBR|1||R-1",
        obx=("OBX|1|NM|GLU^血糖||5.6|mmol/L|||||F|||20240104073000",),
    ).encode()
    (report,) = parse_hl7(data, now=NOW).reports
    assert report.effective_at == dt.datetime(2024, 1, 4, 7, 30, tzinfo=SHANGHAI)
    data = oru(obr="OBR|1||R-1").encode()
    (report,) = parse_hl7(data, now=NOW).reports
    assert report.effective_at == dt.datetime(2024, 1, 5, 9, 0, tzinfo=SHANGHAI)  # MSH-7


def test_placer_number_when_no_filler_and_none_at_all():
    (report,) = parse_hl7(oru(obr="OBR|1|PL-9||X|||20240105").encode(), now=NOW).reports
    assert report.source_report_id == "PL-9"
    (report,) = parse_hl7(oru(obr="OBR|1|||X|||20240105").encode(), now=NOW).reports
    assert report.source_report_id == ""


# --------------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------------


def test_gbk_bytes_declared_utf8_are_read_as_gb18030():
    text = oru().replace("|2.4", "|2.4|||||CHN|UNICODE UTF-8", 1)
    out = parse_hl7(text.encode("gbk"), now=NOW)
    assert out.encoding == "gb18030"
    assert out.reports[0].patient.name == "张三"
    assert out.reports[0].results[0].local_name == "血糖"


def test_random_bytes_are_an_encoding_error():
    data = bytes(range(0x80, 0x100)) * 8 + os.urandom(256)
    with pytest.raises(FileUnreadable) as exc:
        parse_hl7(data, now=NOW)
    assert exc.value.reason == Reason.ENCODING


def test_text_without_any_msh_is_unreadable():
    with pytest.raises(FileUnreadable) as exc:
        parse_hl7(b"PID|1||123\rOBX|1|NM|A||1\r", now=NOW)
    assert exc.value.reason == Reason.UNREADABLE


def test_one_message_in_another_encoding_costs_only_that_message():
    good = oru(1).encode("utf-8")
    bad = oru(2).encode("utf-8").replace("张".encode(), b"\xff\xfe")
    out = parse_hl7(good + bad + oru(3).encode("utf-8"), now=NOW)
    assert [r.location for r in out.reports] == ["message 1", "message 3"]
    assert reasons(out) == [("message 2", Reason.ENCODING)]


# --------------------------------------------------------------------------------------------
# Malformed and partial input
# --------------------------------------------------------------------------------------------


def test_file_cut_inside_the_last_segment():
    data = (
        (oru(1) + oru(2)).encode()
        + b"MSH|^~\\&|LIS|LAB|||20240105||ORU^R01|M3|P|2.4\r"
        + b"PID|1||C9^^^^MB\rOBR|1||R3|X|||20240105\rOBX|1|NM|GLU^"
    )
    out = parse_hl7(data, now=NOW)
    assert [r.location for r in out.reports] == ["message 1", "message 2"]
    assert reasons(out) == [("message 3", Reason.TRUNCATED)]


def test_file_cut_between_segments_leaves_a_message_without_obx():
    data = (oru(1) + "MSH|^~\\&|LIS|LAB|||20240105||ORU^R01|M2|P|2.4\rPID|1||C9^^^^MB\r").encode()
    out = parse_hl7(data, now=NOW)
    assert len(out.reports) == 1
    assert reasons(out) == [("message 2", Reason.TRUNCATED)]


def test_mllp_block_without_end_is_truncated():
    data = b"\x0b" + oru(1).encode() + b"\x1c\r\x0b" + oru(2).encode()
    out = parse_hl7(data, now=NOW)
    assert [r.location for r in out.reports] == ["message 1"]
    assert reasons(out) == [("message 2", Reason.TRUNCATED)]


def test_message_without_obx_in_the_middle_is_no_value_not_truncated():
    middle = "MSH|^~\\&|LIS|LAB|||20240105||ORU^R01|M2|P|2.4\rPID|1||C9^^^^MB\rOBR|1||R|X\r"
    out = parse_hl7((oru(1) + middle + oru(3)).encode(), now=NOW)
    assert len(out.reports) == 2
    assert reasons(out) == [("message 2", Reason.NO_VALUE)]


def test_unterminated_last_line_that_is_complete_is_not_truncated():
    data = oru(1).rstrip("\r").encode()  # no trailing terminator, OBX has all 11 fields
    out = parse_hl7(data, now=NOW)
    assert len(out.reports) == 1 and out.problems == []


def test_junk_lines_are_reported_and_skipped():
    text = "garbage before\r" + oru(1).replace("\rOBR", "\r@@## not a segment ##@@\rOBR")
    out = parse_hl7(text.encode(), now=NOW)
    assert len(out.reports) == 1
    assert [(p.location, p.reason) for p in out.problems] == [
        ("line 1", Reason.MALFORMED),
        ("message 1, line 4", Reason.MALFORMED),
    ]


def test_unknown_but_wellformed_segments_are_ignored():
    text = oru(1).replace("\rOBR", "\rZDS|1|vendor data\rPV1|1|O\rOBR")
    out = parse_hl7(text.encode(), now=NOW)
    assert out.problems == [] and len(out.reports[0].results) == 1


def test_non_oru_message_is_skipped_with_a_problem():
    adt = "MSH|^~\\&|HIS|H|||20240105||ADT^A04|A1|P|2.4\rPID|1||C1^^^^MB\r"
    out = parse_hl7((adt + oru(2)).encode(), now=NOW)
    assert [r.location for r in out.reports] == ["message 2"]
    assert reasons(out) == [("message 1", Reason.UNSUPPORTED)]
    assert "ADT^A04" in out.problems[0].message


def test_twenty_messages_with_the_seventh_broken():
    messages = [oru(n) for n in range(1, 21)]
    messages[6] = oru(7, pid="")  # no PID
    out = parse_hl7("".join(messages).encode(), now=NOW)
    assert out.units_read == 20
    assert len(out.reports) == 19
    assert [r.index for r in out.reports] == list(range(19))
    assert "message 7" not in [r.location for r in out.reports]
    assert [r.source_report_id for r in out.reports][5:7] == ["R-6", "R-8"]
    assert reasons(out) == [("message 7", Reason.NO_PATIENT_ID)]


def test_future_dates_are_refused():
    out = parse_hl7(oru(obr="OBR|1||R-1|X|||20260105").encode(), now=NOW)
    assert out.reports == []
    (problem,) = out.problems
    assert (problem.field, problem.reason) == ("OBR-7", Reason.FUTURE_DATE)
    # Tomorrow (clock drift) is tolerated.
    tomorrow = (NOW + dt.timedelta(hours=20)).astimezone(SHANGHAI).strftime("%Y%m%d%H%M")
    out = parse_hl7(oru(obr=f"OBR|1||R-1|X|||{tomorrow}").encode(), now=NOW)
    assert len(out.reports) == 1


def test_malformed_obr7_is_bad_date_not_msh7():
    out = parse_hl7(oru(obr="OBR|1||R-1|X|||2024-13-45").encode(), now=NOW)
    assert out.reports == []
    assert [(p.field, p.reason) for p in out.problems] == [("OBR-7", Reason.BAD_DATE)]
    out = parse_hl7(oru(obr="OBR|1||R-1|X|||2024").encode(), now=NOW)
    assert out.problems[0].reason == Reason.BAD_DATE


def test_no_date_anywhere():
    out = parse_hl7(oru(obr="OBR|1||R-1", msh_time="").encode(), now=NOW)
    assert [(p.field, p.reason) for p in out.problems] == [("OBR-7", Reason.NO_DATE)]


@pytest.mark.parametrize(
    ("obx", "value"),
    [
        ("OBX|1|NM|HBSAG^乙肝表面抗原||阴性||阴性||||F", "阴性"),  # qualitative typed NM
        ("OBX|1|NM|CRP^CRP||<0.1|mg/L|||||F", "<0.1"),
        ("OBX|1|NM|CRP^CRP||＜０．１|mg/L|||||F", "<0.1"),  # full-width, folded
        ("OBX|1|NM|UPRO^尿蛋白||++||||||F", "++"),
        ("OBX|1|NM|RBC^尿红细胞||0-2|/HP|||||F", "0-2"),
        ("OBX|1|ST|ECG^心电图||窦性心律||||||F", "窦性心律"),
        ("OBX|1|CWE|HBSAG^乙肝||POS^阳性^L||||||F", "阳性"),
        ("OBX|1|CE|HBSAG^乙肝||POS||||||F", "POS"),
    ],
)
def test_value_forms(obx, value):
    (report,) = parse_hl7(oru(obx=(obx,)).encode(), now=NOW).reports
    assert report.results[0].value == value


@pytest.mark.parametrize(
    ("obx", "fld", "reason"),
    [
        ("OBX|1|NM|GLU^血糖||5..6|mmol/L|||||F", "OBX-5", Reason.BAD_VALUE),
        ("OBX|1|NM|GLU^血糖||abc|mmol/L|||||F", "OBX-5", Reason.BAD_VALUE),
        ("OBX|1|NM|GLU^血糖|||mmol/L|||||F", "OBX-5", Reason.NO_VALUE),
        ("OBX|1|NM|||5.6|mmol/L|||||F", "OBX-3", Reason.NO_CODE),
        ("OBX|1|NM|GLU^血糖||5.6|mmol/L|||||D", "OBX-11", Reason.CANCELLED),
        ("OBX|1|NM|GLU^血糖|||mmol/L|||||I", "OBX-11", Reason.NO_VALUE),
        ("OBX|1|ED|PDF^报告||^AP^PDF^Base64^JVBERi0=||||||F", "OBX-2", Reason.UNSUPPORTED),
    ],
)
def test_bad_results_are_problems_and_the_rest_lands(obx, fld, reason):
    good = "OBX|2|NM|ALT^ALT||35|U/L|9-50||||F"
    out = parse_hl7(oru(obx=(obx, good)).encode(), now=NOW)
    (report,) = out.reports
    assert [r.local_code for r in report.results] == ["ALT"]
    (problem,) = out.problems
    assert (problem.location, problem.field, problem.reason) == ("message 1, OBX 1", fld, reason)
    assert problem.report_index == 0


def test_a_message_whose_every_result_is_bad_is_not_emitted():
    out = parse_hl7(oru(obx=("OBX|1|NM|GLU^血糖||x|mmol/L|||||F",)).encode(), now=NOW)
    assert out.reports == []
    assert [(p.location, p.reason, p.report_index) for p in out.problems] == [
        ("message 1, OBX 1", Reason.BAD_VALUE, None),
        ("message 1", Reason.NO_VALUE, None),
    ]


# --------------------------------------------------------------------------------------------
# Patient identifiers
# --------------------------------------------------------------------------------------------


def test_id_number_found_in_any_field_and_card_by_type_priority():
    pid = f"PID|1|{ID_B}|P77^^^^PI~M55^^^^MR~C01^^^^MB||某^人"
    (report,) = parse_hl7(oru(pid=pid).encode(), now=NOW).reports
    assert report.patient.id_number == ID_B
    assert report.patient.card_number == "C01"  # MB before MR before PI


def test_invalid_id_number_with_a_card_is_a_warning_and_the_report_lands():
    pid = f"PID|1||C0001^^^^MB~{BAD_CHECK}^^^^NI||张^三"
    out = parse_hl7(oru(pid=pid).encode(), now=NOW)
    (report,) = out.reports
    assert (report.patient.id_number, report.patient.card_number) == ("", "C0001")
    (problem,) = out.problems
    assert problem.reason == Reason.BAD_PATIENT_ID
    assert problem.warning is True and problem.report_index == 0
    assert "checksum" in problem.message
    assert_no_phi_in_problems(out, BAD_CHECK, "张三", "C0001")


def test_invalid_id_number_alone_is_refused():
    out = parse_hl7(oru(pid=f"PID|1||{BAD_CHECK}^^^^NI||张^三").encode(), now=NOW)
    assert out.reports == []
    (problem,) = out.problems
    assert (problem.field, problem.reason, problem.warning) == (
        "PID-3[1]",
        Reason.BAD_PATIENT_ID,
        False,
    )
    assert_no_phi_in_problems(out, BAD_CHECK, "张三")


def test_pid_without_identifiers():
    out = parse_hl7(oru(pid="PID|1||||张^三").encode(), now=NOW)
    assert [(p.field, p.reason) for p in out.problems] == [("PID-3", Reason.NO_PATIENT_ID)]
