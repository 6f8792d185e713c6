"""The ICD-10 catalogue and partial dates (pure; no database)."""

from __future__ import annotations

import csv
import datetime as dt
import re

import pytest

from careledger.records import dates, icd10


def test_the_catalogue_covers_what_a_check_up_centre_records():
    codes = {e.code for e in icd10.all_codes()}
    assert len(codes) >= 150
    for needed in (
        "I10", "I11", "I12", "I13", "I15", "E10", "E11", "E12", "E13", "E14", "E78.0", "E78.5",
        "M10", "E79.0", "K76.0", "I20", "I21", "I25", "I63", "I64", "J44", "J45", "N18.3",
        "E03", "E04", "E05", "C16", "C22", "C34", "B18.1", "E66", "M81",
    ):  # fmt: skip
        assert needed in codes, needed


def test_every_row_is_well_formed_and_unique():
    with icd10.DATA.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len({r["code"] for r in rows}) == len(rows)
    assert len({r["name_zh"] for r in rows}) == len(rows)  # a name picks one code
    for r in rows:
        assert re.fullmatch(r"[A-Z]\d{2}(\.\d)?", r["code"]), r
        assert re.search(r"[\u4e00-\u9fff]", r["name_zh"]), r
        assert r["name_en"].strip() == r["name_en"] and r["name_en"], r


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("I10", "I10"),
        ("i10", "I10"),
        (" E785 ", "E78.5"),
        ("Ｅ７８．５", "E78.5"),
        ("E78.5 高脂血症", "E78.5"),
        ("2型糖尿病", "E11"),
        ("脂肪肝", "K76.0"),
    ],
)
def test_what_people_type_resolves_to_the_catalogue_entry(typed, code):
    assert icd10.resolve(typed).code == code


def test_unknown_codes_are_refused_suggesting_the_category_when_known():
    with pytest.raises(icd10.UnknownCode) as caught:
        icd10.resolve("E11.7")
    assert caught.value.parent is not None and caught.value.parent.code == "E11"
    for text in ("Z99.9", "高血压病", "", "I1O"):
        with pytest.raises(icd10.UnknownCode):
            icd10.resolve(text)


@pytest.mark.parametrize(
    ("typed", "text", "earliest", "latest"),
    [
        ("2015", "2015", dt.date(2015, 1, 1), dt.date(2015, 12, 31)),
        ("2016-2", "2016-02", dt.date(2016, 2, 1), dt.date(2016, 2, 29)),
        ("2015/06/03", "2015-06-03", dt.date(2015, 6, 3), dt.date(2015, 6, 3)),
        ("2015年6月", "2015-06", dt.date(2015, 6, 1), dt.date(2015, 6, 30)),
        ("2015年6月3日", "2015-06-03", dt.date(2015, 6, 3), dt.date(2015, 6, 3)),
        ("２０１５.０６", "2015-06", dt.date(2015, 6, 1), dt.date(2015, 6, 30)),
    ],
)
def test_partial_dates_parse_to_the_period_they_cover(typed, text, earliest, latest):
    parsed = dates.parse(typed)
    assert (parsed.text, parsed.earliest, parsed.latest) == (text, earliest, latest)


@pytest.mark.parametrize("typed", ["", "15", "2015-13", "2015-02-30", "1899", "去年", "2015-06-"])
def test_what_is_not_a_date_is_refused(typed):
    with pytest.raises(dates.BadDate):
        dates.parse(typed)


def test_comparisons_use_the_period_not_a_made_up_day():
    assert not dates.parse("2016-05").ends_before(dates.parse("2016-05-20"))
    assert dates.parse("2016-04").ends_before(dates.parse("2016-05-01"))
    today = dt.date(2025, 6, 15)
    assert not dates.parse("2025").is_after(today)
    assert dates.parse("2025-07").is_after(today)
