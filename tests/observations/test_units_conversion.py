"""Unit spellings and conversions of the indicator catalogue (pure, no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careledger.observations import catalogue
from careledger.observations.catalogue import (
    Conversion,
    UnitNotConvertible,
    from_canonical,
    normalise_unit,
    to_canonical,
)

GLUCOSE = catalogue.get("2345-7")
CREATININE = catalogue.get("2160-0")
HBA1C = catalogue.get("4548-4")
WBC = catalogue.get("6690-2")


def q(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places))


def test_glucose_100_mg_dl_is_5_55_mmol_l():
    assert q(to_canonical(GLUCOSE, Decimal(100), "mg/dL"), "0.01") == Decimal("5.55")
    # Molar mass 180.16 g/mol exactly: 100 mg/dL = 1000 mg/L / 180.16.
    assert to_canonical(GLUCOSE, Decimal(100), "mg/dL") == q(
        Decimal(1000) / Decimal("180.16"), "0.000001"
    )


def test_creatinine_1_mg_dl_is_88_4_umol_l():
    assert q(to_canonical(CREATININE, Decimal(1), "mg/dL"), "0.1") == Decimal("88.4")


def test_hba1c_48_mmol_mol_is_6_5_percent_and_back():
    assert q(to_canonical(HBA1C, Decimal(48), "mmol/mol"), "0.1") == Decimal("6.5")
    # Affine: NGSP = 0.09148·IFCC + 2.152, so 6.5 % is (6.5 − 2.152)/0.09148 = 47.5 mmol/mol.
    assert q(from_canonical(HBA1C, Decimal("6.5"), "mmol/mol"), "0.1") == Decimal("47.5")
    assert to_canonical(HBA1C, Decimal("6.5"), "%") == Decimal("6.5")


@pytest.mark.parametrize(
    ("code", "value", "unit", "expected", "places"),
    [
        ("3084-1", "7", "mg/dL", "416", "1"),  # uric acid ×59.48
        ("2093-3", "200", "mg/dL", "5.17", "0.01"),  # cholesterol ×0.02586
        ("2085-9", "40", "mg/dL", "1.03", "0.01"),
        ("2571-8", "150", "mg/dL", "1.69", "0.01"),  # triglycerides ×0.01129
        ("718-7", "13.5", "g/dL", "135", "1"),  # haemoglobin ×10
        ("1975-2", "1", "mg/dL", "17.1", "0.1"),  # bilirubin ×17.1
        ("22664-7", "14", "mg/dL", "5.00", "0.01"),  # BUN mg/dL → urea mmol/L
        ("17861-6", "10", "mg/dL", "2.50", "0.01"),  # calcium / 4.008
        ("3024-7", "1.2", "ng/dL", "15.4", "0.1"),  # FT4 ×12.87
        ("8480-6", "16", "kPa", "120", "1"),  # 16 kPa = 120 mmHg
        ("8302-2", "1.72", "m", "172.0", "0.1"),
        ("27873-9", "60", "pmol/L", "10.0", "0.1"),  # insulin 6 pmol/L per µIU/mL
        ("10835-7", "30", "mg/dL", "300", "1"),  # Lp(a)
        ("1742-6", "1", "µkat/L", "60", "1"),
    ],
)
def test_known_conversions(code, value, unit, expected, places):
    ind = catalogue.get(code)
    assert q(to_canonical(ind, Decimal(value), unit), places) == Decimal(expected)


@pytest.mark.parametrize(
    "spelling",
    [
        "10*9/L",
        "10^9/L",
        "×10^9/L",
        "x10^9/L",
        "X10^9/L",
        "10E9/L",
        "10e9/L",
        "G/L",
        "× 10⁹/L",
        "×10⁹/L",
        "10~9/L",
        "×109/L",  # superscript flattened by the export
        "10**9/L",
        "10^9/l",
        "１０＾９／Ｌ",  # full width
        "10*3/uL",
        "10^3/µL",
        "K/μL",
    ],
)
def test_count_spellings_all_mean_10_9_per_litre(spelling):
    assert to_canonical(WBC, Decimal("6.5"), spelling) == Decimal("6.5")


def test_counts_per_microlitre_are_divided():
    assert to_canonical(catalogue.get("777-3"), Decimal(250000), "/µL") == Decimal("250.000000")


@pytest.mark.parametrize("spelling", ["µmol/L", "μmol/L", "umol/L", "μmol/l", "µmol/l", "UMOL/L"])
def test_micro_sign_variants_and_litre_case(spelling):
    # U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU are the same prefix.
    assert to_canonical(CREATININE, Decimal(80), spelling) == Decimal(80)


@pytest.mark.parametrize("spelling", ["mg/dl", "MG/DL", "Mg/dL", "mg / dL", "ｍｇ／ｄＬ"])
def test_case_space_and_full_width_tolerated_where_unambiguous(spelling):
    assert q(to_canonical(GLUCOSE, Decimal(90), spelling), "0.01") == Decimal("5.00")


def test_normalise_unit_examples():
    assert normalise_unit("×10⁹/L") == "10*9/L"
    assert normalise_unit("10E12/L") == "10*12/L"
    assert normalise_unit("T/L") == "10*12/L"
    assert normalise_unit("µmol/l") == normalise_unit("μmol/L") == "umol/L"
    assert normalise_unit("mg/dl") == "mg/dL"
    assert normalise_unit("fl") == "fL"
    assert normalise_unit("kg/m²") == "kg/m2"
    assert normalise_unit("") == ""
    # Never a case fix between different units: g/L (grams) is not G/L (giga-cells).
    assert normalise_unit("g/L") == "g/L"
    assert normalise_unit("mmol/L") != normalise_unit("umol/L")


@pytest.mark.parametrize(
    ("code", "unit"),
    [
        ("2345-7", "µmol/L"),  # letters differ, not case: mmol/L vs µmol/L is never guessed
        ("2345-7", "umol/L"),
        ("2345-7", "mmol/mol"),
        ("2345-7", "g/L"),
        ("4548-4", "mg/dL"),
        ("2160-0", "mg"),
        ("10835-7", "nmol/L"),  # Lp(a) molar ↔ mass depends on the isoform
        ("6690-2", "g/L"),  # grams per litre is not G/L
        ("6690-2", "10*6/L"),
        ("718-7", "mmol/L"),
        ("1742-6", "abc"),
    ],
)
def test_units_that_do_not_convert_raise(code, unit):
    ind = catalogue.get(code)
    with pytest.raises(UnitNotConvertible) as err:
        to_canonical(ind, Decimal(1), unit)
    assert code in str(err.value)
    assert repr(unit) in str(err.value)


def test_missing_unit_only_for_unitless_indicators():
    with pytest.raises(UnitNotConvertible, match="no unit given"):
        to_canonical(GLUCOSE, Decimal(100), "")
    with pytest.raises(UnitNotConvertible):
        to_canonical(GLUCOSE, Decimal(100), "   ")
    assert to_canonical(catalogue.get("5811-5"), Decimal("1.020"), "") == Decimal("1.020")
    assert to_canonical(catalogue.get("5803-2"), Decimal("6.5"), "") == Decimal("6.5")
    assert to_canonical(catalogue.get("1759-0"), Decimal("1.5"), "") == Decimal("1.5")


def test_case_insensitive_match_refused_when_two_units_differ_only_by_case():
    base = catalogue.get("3016-3")
    # A made-up indicator where "mU/L" (milli) and "MU/L" (mega) are both known.
    ind = type(base)(
        **{
            **base.__dict__,
            "conversions": (
                Conversion(unit="mU/L", numerator=Decimal(1)),
                Conversion(unit="MU/L", numerator=Decimal(10) ** 9),
            ),
        }
    )
    assert to_canonical(ind, Decimal(2), "mU/L") == Decimal(2)
    assert to_canonical(ind, Decimal(2), "MU/L") == Decimal(2 * 10**9)
    with pytest.raises(UnitNotConvertible, match="ambiguous"):
        to_canonical(ind, Decimal(2), "mu/l")


def test_every_conversion_of_every_entry_round_trips():
    for ind in catalogue.all_indicators():
        if ind.is_ordinal:
            assert ind.conversions == ()
            continue
        assert to_canonical(ind, Decimal("12.5"), ind.unit) == Decimal("12.5"), ind.code
        if ind.unit_display:
            assert to_canonical(ind, Decimal("12.5"), ind.unit_display) == Decimal("12.5")
        for conv in ind.conversions:
            there = to_canonical(ind, Decimal("12.5"), conv.unit)
            back = from_canonical(ind, there, conv.unit)
            assert abs(back - Decimal("12.5")) < Decimal("0.001"), (ind.code, conv.unit)


@given(st.text(max_size=30))
def test_normalise_unit_is_idempotent_and_never_crashes(text):
    once = normalise_unit(text)
    assert normalise_unit(once) == once


@given(st.text(max_size=30))
def test_to_canonical_only_raises_unit_not_convertible(text):
    try:
        result = to_canonical(GLUCOSE, Decimal(5), text)
    except UnitNotConvertible:
        return
    assert result > 0
