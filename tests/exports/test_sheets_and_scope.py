"""The export writers and the scope, without a database: watermark in the file and above the
data, formula cells neutralised (read back with the real csv module and openpyxl), numbers
kept as numbers; the canonical scope, its hash, and the errors it names."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import polars as pl
import pytest

from careledger.exports import sheets
from careledger.exports.scope import ScopeError, canonical, scope_hash

MARK = sheets.Watermark(
    request_id="5b9e7f5e-0000-4000-8000-000000000001",
    requester="王医生 (doctor)",
    approver="安全员 (auditor)",
    purpose="Quality improvement [quality_improvement]",
    issued_at=dt.datetime(2026, 12, 4, 20, 0, tzinfo=dt.UTC),
    expires_at=dt.datetime(2026, 12, 7, 20, 0, tzinfo=dt.UTC),
    note="de-identified",
)
EVIL = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain", "中文"]


def frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "text": EVIL,
            "value": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            "day": [dt.date(2026, 1, d + 1) for d in range(8)],
        }
    )


@pytest.mark.parametrize("cell", EVIL[:6])
def test_neutralise_prefixes_every_formula_start(cell):
    assert sheets.neutralise(cell) == "'" + cell
    assert sheets.neutralise("ok=1") == "ok=1"


def test_csv_has_the_watermark_first_and_no_live_formula():
    data = sheets.to_csv(frame(), MARK, ["文本 text", "值 value", "日期 day"])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][0].startswith("# ") and MARK.request_id in rows[0][0]
    assert "王医生" in rows[0][0] and "安全员" in rows[0][0] and "quality_improvement" in rows[0][0]
    assert rows[1] == ["文本 text", "值 value", "日期 day"]
    texts = [r[0] for r in rows[2:]]
    assert texts[:5] == ["'" + c for c in EVIL[:5]] and texts[6:] == ["plain", "中文"]
    assert texts[5] in ("'\rx", "'\nx")  # the csv module reads a quoted CR back as LF
    assert [r[1] for r in rows[2:4]] == ["-1.5", "2.0"]  # numbers are data, not prefixed
    assert rows[2][2] == "2026-01-01"


def test_xlsx_has_watermark_properties_sheet_and_row_and_no_formula_cells():
    data = sheets.to_xlsx(frame(), MARK, ["=evil header", "值", "日期"])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.properties.keywords == MARK.request_id
    assert book.properties.creator == MARK.requester
    assert MARK.approver in book.properties.description
    data_sheet = book[sheets.DATA_SHEET]
    rows = list(data_sheet.iter_rows())
    assert MARK.request_id in rows[0][0].value
    assert rows[1][0].value == "'=evil header"
    for row in rows:
        for cell in row:
            assert cell.data_type != "f", cell.value
    assert [r[0].value for r in rows[2:7]] == ["'" + c for c in EVIL[:5]]
    assert rows[7][0].value in ("'\rx", "'\nx")  # XML text normalises a CR
    assert rows[2][1].value == -1.5 and rows[2][1].data_type == "n"
    marks = dict(book[sheets.WATERMARK_SHEET].iter_rows(values_only=True))
    assert marks["导出编号 request id"] == MARK.request_id
    assert marks["审批人 approver"] == MARK.approver


def test_scope_is_canonical_and_its_hash_changes_with_any_part():
    raw = {
        "purpose": "quality_improvement",
        "categories": ["tags", "observations"],
        "observation_codes": ["8480-6", "2345-7", "8480-6"],
        "care_team_ids": ["00000000-0000-4000-8000-000000000002"],
        "results_from": "2025-01-01",
    }
    one = canonical(raw, known_codes={"8480-6", "2345-7"})
    assert one["categories"] == ["demographics", "observations", "tags"]
    assert one["observation_codes"] == ["2345-7", "8480-6"]
    assert one["identified"] is False and one["k"] == 5
    assert scope_hash(one) == scope_hash(canonical(dict(raw, categories=["observations", "tags"])))
    assert scope_hash(one) != scope_hash(canonical(dict(raw, results_from="2025-01-02")))
    assert scope_hash(one) != scope_hash(canonical(dict(raw, k=6)))


def test_scope_errors_name_each_field():
    with pytest.raises(ScopeError) as caught:
        canonical(
            {
                "purpose": "quality_improvement",
                "identifier_fields": ["name"],
                "observation_codes": ["9999-9"],
                "results_from": "2026-13-01",
                "enrolled_from": "2026-02-01",
                "enrolled_to": "2026-01-01",
                "format": "pdf",
                "care_team_ids": ["not-an-id"],
                "k": 1,
            },
            known_codes={"8480-6"},
        )
    errors = caught.value.errors
    assert set(errors) >= {
        "identifier_fields",
        "observation_codes",
        "results_from",
        "enrolled_to",
        "format",
        "care_team_ids",
    }


def test_identifiers_only_for_purposes_that_need_them_and_research_names_a_project():
    ok = canonical({"purpose": "continuity_of_care", "identifier_fields": ["name", "phone"]})
    assert ok["identified"] and ok["categories"] == ["demographics", "identifiers"]
    assert ok["k"] == 0
    with pytest.raises(ScopeError) as caught:
        canonical({"purpose": "research"})
    assert "project_id" in caught.value.errors
    with pytest.raises(ScopeError):
        canonical({"purpose": "research", "identifier_fields": ["name"], "project_id": "x"})
