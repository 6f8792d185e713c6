"""parse() / detect_format(), decoding, common helpers, memory, and fuzzing: whatever the bytes,
a parser returns an outcome or raises FileUnreadable, never anything else."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import tracemalloc

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parse_helpers import ID_A, ID_C, NOW, fixture, oru

from careledger.exams.parsers import INTERNAL_ERROR, detect_format, parse
from careledger.exams.parsers.common import (
    SHANGHAI,
    Candidate,
    classify_value,
    parse_hl7_ts,
    parse_loose_datetime,
    pick_ids,
)
from careledger.exams.parsers.decoding import codec_for, decode
from careledger.exams.parsers.types import FileUnreadable, ParseOutcome, Reason

FIXTURE_FILES = [
    ("hl7v2", ("hl7", "mindray_gb18030.hl7")),
    ("hl7v2", ("hl7", "roche_cobas_utf8.hl7")),
    ("hl7v2", ("hl7", "v23_lf_no_ranges.hl7")),
    ("hl7v2", ("hl7", "mllp_batch3.hl7")),
    ("hl7v2", ("hl7", "custom_encoding_chars.hl7")),
    ("fhir", ("fhir", "checkup-bundle-zh.json")),
    ("fhir", ("fhir", "bundle-lipids.json")),
    ("fhir", ("fhir", "observation-example-bloodpressure.json")),
    ("csv", ("csv", "long_utf8_bom.csv")),
    ("csv", ("csv", "long_gbk_semicolon.csv")),
    ("csv", ("csv", "wide_gb18030_tab.csv")),
    ("xlsx", ()),  # small_xlsx(), made below
]


def small_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["身份证号", "体检日期", "项目代码", "结果", "单位"])
    ws.append([ID_A, dt.datetime(2024, 1, 2), "GLU", 5.6, "mmol/L"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


XLSX = small_xlsx()


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "declared", "text", "codec"),
    [
        ("血糖".encode("utf-8-sig"), "", "血糖", "utf-8-sig"),
        ("血糖".encode("utf-16"), "", "血糖", "utf-16"),
        ("血糖".encode("utf-32"), "", "血糖", "utf-32"),
        ("血糖".encode(), "", "血糖", "utf-8"),
        ("血糖".encode("gbk"), "", "血糖", "gb18030"),
        ("血糖".encode("gbk"), "UNICODE UTF-8", "血糖", "gb18030"),  # the declaration lies
        ("血糖".encode("gb18030"), "GB 18030-2000", "血糖", "gb18030"),
        ("café".encode("latin-1"), "8859/1", "café", "latin-1"),
        ("血糖".encode(), "8859/1", "血糖", "utf-8"),  # valid UTF-8 beats a Latin-1 claim
        ("血糖".encode("utf-16-le"), "UNICODE", "血糖", "utf-16-le"),
        (b"plain ascii", "ASCII", "plain ascii", "ascii"),
        ("體檢".encode("big5"), "BIG-5", "體檢", "big5"),
    ],
)
def test_decode(data, declared, text, codec):
    assert decode(data, declared) == (text, codec)


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(0x80, 0x100)),
        b"\x81\x00abc",  # NUL: binary
        b"\xff\xfe\x00",  # UTF-16 BOM with an odd byte out
        b"ok then \x80\x80\x80 \xff",
    ],
)
def test_decode_refuses(data):
    with pytest.raises(FileUnreadable) as exc:
        decode(data)
    assert exc.value.reason == Reason.ENCODING


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("UNICODE UTF-8", "utf-8"),
        ("GB 18030-2000", "gb18030"),
        ("8859/1", "latin-1"),
        ("ISO IR58", "gb18030"),
        ("gbk", "gb18030"),
        ("utf8", "utf-8"),
        ("no such charset", None),
        ("", None),
    ],
)
def test_codec_for(name, codec):
    assert codec_for(name) == codec


# --------------------------------------------------------------------------------------------
# Format detection and the dispatcher
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "head", "fmt"),
    [
        ("upload.txt", fixture("hl7", "mindray_gb18030.hl7"), "hl7v2"),
        ("upload.csv", fixture("hl7", "mllp_batch3.hl7"), "hl7v2"),  # FHS first, framed
        ("x", b"\x0bMSH|^~\\&|A", "hl7v2"),
        ("report.hl7", fixture("fhir", "checkup-bundle-zh.json"), "fhir"),
        ("a.json", '\ufeff{\n "resourceType": "Bundle"}'.encode(), "fhir"),
        ("a.json", b'{"hello": 1}', None),
        ("a.hl7", fixture("csv", "long_utf8_bom.csv"), "csv"),
        ("a", fixture("csv", "long_gbk_semicolon.csv"), "csv"),
        ("a", fixture("csv", "wide_gb18030_tab.csv"), "csv"),
        ("data.bin", small_xlsx()[:8192], "xlsx"),
        ("scan.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3", None),
        ("a.zip", b"PK\x03\x04\x14\x00\x00\x00word/document.xml", None),
        ("a", bytes(range(0x80, 0x100)), None),
        ("a", b"just one line of words", None),
        ("a", "身份证号,结果".encode("gbk")[:-1], "csv"),  # head cut inside a character
    ],
)
def test_detect_format_by_content(name, head, fmt):
    assert detect_format(name, head[:8192]) == fmt


def test_parse_dispatches_every_format():
    assert len(parse(fixture("hl7", "mllp_batch3.hl7"), fmt="hl7v2", now=NOW).reports) == 3
    assert len(parse(fixture("fhir", "checkup-bundle-zh.json"), fmt="fhir", now=NOW).reports) == 1
    assert len(parse(fixture("csv", "long_utf8_bom.csv"), fmt="csv", now=NOW).reports) == 2
    assert len(parse(small_xlsx(), fmt="xlsx", now=NOW).reports) == 1


def test_parse_refuses_empty_too_large_and_unknown_format():
    with pytest.raises(FileUnreadable) as exc:
        parse(b"  \r\n", fmt="csv", now=NOW)
    assert exc.value.reason == Reason.UNREADABLE
    with pytest.raises(FileUnreadable) as exc:
        parse(b"x" * 101, fmt="csv", now=NOW, max_bytes=100)
    assert exc.value.reason == Reason.TOO_LARGE
    with pytest.raises(ValueError, match="unknown format"):
        parse(b"x", fmt="pdf", now=NOW)


def test_a_parser_bug_surfaces_as_file_unreadable(monkeypatch):
    from careledger.exams.parsers import tabular

    def broken(*args, **kwargs):
        raise KeyError("bug")

    monkeypatch.setattr(tabular, "parse_csv", broken)
    with pytest.raises(FileUnreadable) as exc:
        parse(b"a,b\n1,2\n", fmt="csv", now=NOW)
    assert exc.value.message.startswith(INTERNAL_ERROR)


# --------------------------------------------------------------------------------------------
# Helpers shared by the formats
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240105", dt.datetime(2024, 1, 5, tzinfo=SHANGHAI)),
        ("202401050830", dt.datetime(2024, 1, 5, 8, 30, tzinfo=SHANGHAI)),
        ("20240105083015.25", dt.datetime(2024, 1, 5, 8, 30, 15, 250000, tzinfo=SHANGHAI)),
        (
            "20240105083015-0500",
            dt.datetime(2024, 1, 5, 8, 30, 15, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        ),
        ("2024-01-05 08:30:15", dt.datetime(2024, 1, 5, 8, 30, 15, tzinfo=SHANGHAI)),
    ],
)
def test_hl7_timestamps(text, expected):
    assert parse_hl7_ts(text) == expected


@pytest.mark.parametrize("text", ["2024", "202401", "20241305", "20240230", "yesterday", ""])
def test_hl7_timestamps_refused(text):
    with pytest.raises(ValueError):
        parse_hl7_ts(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-3-1", dt.datetime(2024, 3, 1, tzinfo=SHANGHAI)),
        ("2024/03/01 08:05", dt.datetime(2024, 3, 1, 8, 5, tzinfo=SHANGHAI)),
        ("2024.03.01", dt.datetime(2024, 3, 1, tzinfo=SHANGHAI)),
        ("2024年3月1日", dt.datetime(2024, 3, 1, tzinfo=SHANGHAI)),
        ("２０２４－０３－０１", dt.datetime(2024, 3, 1, tzinfo=SHANGHAI)),
        ("2024-03-01T08:00:00Z", dt.datetime(2024, 3, 1, 8, tzinfo=dt.UTC)),
        ("20240301", dt.datetime(2024, 3, 1, tzinfo=SHANGHAI)),
    ],
)
def test_loose_dates(text, expected):
    assert parse_loose_datetime(text) == expected


def test_date_errors_show_the_shape_not_the_value():
    with pytest.raises(ValueError) as exc:
        parse_loose_datetime(ID_A)
    assert ID_A not in str(exc.value)
    assert "999999999999999999" in str(exc.value)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("5.6", "number"),
        ("-1.2", "number"),
        (".5", "number"),
        ("<0.1", "comparator"),
        ("≥ 10", "comparator"),
        ("0-2", "range"),
        ("1:128", "titre"),
        ("阴性", "qualitative"),
        ("阳性（+）", "qualitative"),
        ("Negative", "qualitative"),
        ("++", "qualitative"),
        ("2+", "qualitative"),
        ("±", "qualitative"),
        ("窦性心律", "text"),
        ("5..6", "bad"),
        ("3,4", "bad"),
        ("12abc", "bad"),
        ("", "bad"),
    ],
)
def test_classify_value(value, kind):
    assert classify_value(value) == kind


def test_pick_ids_rules():
    today = dt.date(2025, 1, 1)
    picked = pick_ids(
        [
            Candidate("P-1", "PI"),
            Candidate(ID_C.lower().replace("1", "1"), "", "x"),
            Candidate("M-1", "MR"),
            Candidate("U-1", ""),
        ],
        today=today,
    )
    assert (picked.id_number, picked.card_number) == (ID_C, "M-1")
    picked = pick_ids([Candidate("U-1", ""), Candidate("U-2", "")], today=today)
    assert picked.card_number == "U-1"
    picked = pick_ids([Candidate("11010519900307002", "NI", "PID-3[1]")], today=today)
    assert (picked.bad_id_where, picked.bad_id_why) == ("PID-3[1]", "format")
    # A birth date after `today` makes a number invalid (the registry's rule).
    picked = pick_ids([Candidate(ID_A, "NI", "f")], today=dt.date(1980, 1, 1))
    assert (picked.id_number, picked.bad_id_why) == ("", "birth_date_future")


# --------------------------------------------------------------------------------------------
# Memory: large inputs are read a unit at a time
# --------------------------------------------------------------------------------------------


def _peak(fn) -> int:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_large_hl7_file_is_read_one_message_at_a_time():
    pdf = (
        "OBX|2|ED|PDF^报告||^AP^PDF^Base64^" + base64.b64encode(b"%PDF" * 6000).decode() + "||||||F"
    )
    data = "".join(oru(n, obx=("OBX|1|NM|GLU^血糖||5.6|mmol/L|||||F", pdf)) for n in range(300))
    raw = data.encode()
    assert len(raw) > 9_000_000
    out: list[ParseOutcome] = []
    peak = _peak(lambda: out.append(parse(raw, fmt="hl7v2", now=NOW)))
    assert len(out[0].reports) == 300
    assert len(out[0].problems) == 300  # the embedded PDFs, one UNSUPPORTED each
    assert peak < len(raw) // 4, peak  # a few messages at a time, never the whole file


def test_large_fhir_bundle_drops_narratives_as_it_goes():
    narrative = {"status": "generated", "div": "<div>" + "x" * 40_000 + "</div>"}
    entries = [
        {
            "fullUrl": "urn:uuid:p",
            "resource": {
                "resourceType": "Patient",
                "id": "p",
                "identifier": [{"system": "urn:oid:2.16.156.10011.1.3", "value": ID_A}],
            },
        }
    ]
    for n in range(250):
        res = {
            "resourceType": "Observation",
            "status": "final",
            "text": narrative,
            "code": {"coding": [{"system": "http://loinc.org", "code": "1558-6"}]},
            "subject": {"reference": "urn:uuid:p"},
            "effectiveDateTime": f"2024-01-{1 + n % 28:02d}",
            "valueQuantity": {"value": 5.6, "unit": "mmol/L"},
        }
        entries.append({"fullUrl": f"urn:uuid:o{n}", "resource": res})
    raw = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()
    assert len(raw) > 9_000_000
    out: list[ParseOutcome] = []
    peak = _peak(lambda: out.append(parse(raw, fmt="fhir", now=NOW)))
    assert sum(len(r.results) for r in out[0].reports) == 250
    # The decoded text (ASCII: one byte a character) plus one entry at a time.
    assert peak < len(raw) * 2, peak


def test_large_csv_with_wide_unmapped_columns():
    filler = "备" * 3000
    rows = ["身份证号,体检日期,项目代码,结果,备注\n"] + [
        f"{ID_A},2024-01-02,C{n % 50},{n % 9}.5,{filler}\n" for n in range(1500)
    ]
    raw = "".join(rows).encode("utf-8")
    assert len(raw) > 13_000_000
    out: list[ParseOutcome] = []
    peak = _peak(lambda: out.append(parse(raw, fmt="csv", now=NOW)))
    assert sum(len(r.results) for r in out[0].reports) == 1500
    # Decoded text (2 bytes a character for Chinese) plus a row at a time, not a copy per line.
    assert peak < len(raw) * 1.5, peak


# --------------------------------------------------------------------------------------------
# Fuzzing
# --------------------------------------------------------------------------------------------


def _only_outcome_or_unreadable(data: bytes, fmt: str) -> None:
    try:
        out = parse(data, fmt=fmt, now=NOW)
    except FileUnreadable as exc:
        assert isinstance(exc.reason, Reason)
        assert not exc.message.startswith(INTERNAL_ERROR), exc.message
        return
    assert isinstance(out, ParseOutcome)
    for problem in out.problems:
        assert INTERNAL_ERROR not in problem.message, problem
        assert isinstance(problem.reason, Reason)
    for index, report in enumerate(out.reports):
        assert report.index == index
        assert report.effective_at.tzinfo is not None
        assert report.patient.id_number or report.patient.card_number
        assert report.results


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(data=st.binary(max_size=2048), fmt=st.sampled_from(["hl7v2", "fhir", "csv", "xlsx"]))
def test_fuzz_arbitrary_bytes(data, fmt):
    _only_outcome_or_unreadable(data, fmt)


@FUZZ
@given(
    which=st.sampled_from(FIXTURE_FILES),
    cut=st.integers(min_value=0, max_value=4000),
    at=st.integers(min_value=0, max_value=4000),
    junk=st.binary(max_size=40),
    flip=st.integers(min_value=0, max_value=255),
)
def test_fuzz_mutated_fixtures(which, cut, at, junk, flip):
    fmt, path = which
    data = bytearray(fixture(*path) if path else XLSX)
    at %= len(data)
    data[at] = flip
    data[at:at] = junk
    _only_outcome_or_unreadable(bytes(data[: max(1, len(data) - cut % len(data))]), fmt)


_HL7_ALPHABET = "MSHPIDOBRXNTE|^~\\&\r\n0123456789.<>+-FCXDI 阴性血糖"


@FUZZ
@given(
    body=st.lists(st.text(alphabet=_HL7_ALPHABET, max_size=60), max_size=12),
    pid=st.text(alphabet=_HL7_ALPHABET, max_size=40),
)
def test_fuzz_hl7_shaped_text(body, pid):
    text = oru(1, pid=f"PID|1||{pid}", obx=tuple(f"OBX|{x}" for x in body))
    _only_outcome_or_unreadable(text.encode(), "hl7v2")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "resourceType",
                    "value",
                    "valueQuantity",
                    "code",
                    "coding",
                    "system",
                    "reference",
                    "subject",
                    "result",
                    "component",
                    "identifier",
                    "status",
                    "effectiveDateTime",
                    "contained",
                    "id",
                    "text",
                    "referenceRange",
                    "low",
                    "high",
                    "interpretation",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@FUZZ
@given(
    resources=st.lists(
        st.tuples(st.sampled_from(["Observation", "DiagnosticReport", "Patient", "Foo"]), _json),
        max_size=5,
    )
)
def test_fuzz_fhir_shaped_json(resources):
    entries = []
    for rtype, body in resources:
        res = dict(body) if isinstance(body, dict) else {"value": body}
        res["resourceType"] = rtype
        entries.append({"fullUrl": f"urn:uuid:{len(entries)}", "resource": res})
    raw = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})
    _only_outcome_or_unreadable(raw.encode(), "fhir")
