"""The indicator catalogue itself: every entry valid, lookups, ranges, flags, RCV (pure)."""

from __future__ import annotations

import ast
import math
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from careledger.observations import catalogue
from careledger.observations.catalogue import (
    BadValue,
    ReferenceRange,
    flag,
    ordinal_flag,
    rcv,
    reference_range,
    suggest,
)
from careledger.observations.catalogue.codes import is_valid_loinc, loinc_check_digit

ALL = catalogue.all_indicators()
PANEL_KEYS = [key for key, _ in catalogue.panels()]


def by_code(code: str):
    return catalogue.get(code)


# ------------------------------------------------------------------ shape of the catalogue


def test_at_least_85_entries_in_every_panel():
    assert len(ALL) >= 85
    assert {ind.panel for ind in ALL} == set(PANEL_KEYS)
    assert len({ind.code for ind in ALL}) == len(ALL)


def test_panels_in_display_order_with_chinese_names():
    assert catalogue.panels() == [
        ("body", "体格检查"),
        ("vitals", "生命体征"),
        ("blood_routine", "血常规"),
        ("urine_routine", "尿常规"),
        ("liver", "肝功能"),
        ("kidney", "肾功能"),
        ("lipids", "血脂"),
        ("glucose", "血糖"),
        ("thyroid", "甲状腺功能"),
        ("tumour_markers", "肿瘤标志物"),
        ("electrolytes", "电解质"),
        ("other", "其他"),
    ]
    order = [PANEL_KEYS.index(ind.panel) for ind in ALL]
    assert order == sorted(order)
    assert by_code("1742-6").panel_zh == "肝功能"


@pytest.mark.parametrize(
    ("abbreviation", "panel"),
    [
        (a, p)
        for p, names in {
            "body": ["HT", "WT", "BMI", "WC", "HIP", "PBF"],
            "vitals": ["SBP", "DBP", "HR"],
            "blood_routine": [
                "WBC", "RBC", "HGB", "HCT", "MCV", "MCH", "MCHC", "PLT", "NEUT%", "NEUT#",
                "LYMPH%", "LYMPH#", "MONO%", "MONO#", "EO%", "EO#", "BASO%", "BASO#", "RDW-CV",
            ],
            "liver": [
                "ALT", "AST", "GGT", "ALP", "TBIL", "DBIL", "IBIL", "TP", "ALB", "GLB", "A/G",
            ],
            "kidney": ["CREA", "UREA", "UA", "CysC", "eGFR"],
            "lipids": ["TC", "TG", "HDL-C", "LDL-C", "Lp(a)", "ApoA1", "ApoB"],
            "glucose": ["GLU", "2hPG", "HbA1c", "INS"],
            "thyroid": ["TSH", "FT3", "FT4", "TT3", "TT4"],
            "tumour_markers": [
                "AFP", "CEA", "CA19-9", "CA125", "CA15-3", "CA72-4", "tPSA", "fPSA",
                "CYFRA21-1", "NSE",
            ],
            "electrolytes": ["K", "Na", "Cl", "Ca"],
            "urine_routine": ["pH", "SG", "PRO", "U-GLU", "BLD", "LEU", "KET", "NIT", "BIL", "URO"],
            "other": ["hs-CRP", "Hcy", "HBsAg"],
        }.items()
        for a in names
    ],
)  # fmt: skip
def test_brief_coverage(abbreviation, panel):
    matches = [ind for ind in ALL if ind.abbreviation == abbreviation]
    assert len(matches) == 1, abbreviation
    assert matches[0].panel == panel


# ------------------------------------------------------------------ every entry validates


def test_loinc_check_digit_algorithm():
    # Worked examples: the Luhn mod-10 over the digits before the hyphen.
    assert loinc_check_digit("2345") == 7
    assert loinc_check_digit("13457") == 7
    assert loinc_check_digit("718") == 7
    assert is_valid_loinc("2160-0")
    assert not is_valid_loinc("2345-8")
    assert not is_valid_loinc("2345")
    assert not is_valid_loinc("GLU-1")


@pytest.mark.parametrize("ind", ALL, ids=[i.code for i in ALL])
def test_entry_is_valid(ind):
    # Codes: the entry's and every alias LOINC code carry a correct check digit.
    assert is_valid_loinc(ind.code)
    for code in ind.loinc_aliases:
        assert is_valid_loinc(code), code
        assert code != ind.code
    assert ind.name_zh and ind.name_en and ind.abbreviation and ind.source
    assert ind.panel in PANEL_KEYS
    assert ind.kind in (catalogue.QUANTITY, catalogue.ORDINAL)
    assert ind.decimals >= 0
    if ind.is_ordinal:
        assert ind.unit == "" and len(ind.ordinal_scale) >= 2
        assert len(set(ind.ordinal_scale)) == len(ind.ordinal_scale)
        assert ind.ranges[0].text == ind.ordinal_scale[0]
        assert ind.critical_low is None and ind.critical_high is None
        for source, target in ind.scale_equivalents:
            assert target in ind.ordinal_scale and source not in ind.ordinal_scale
        return
    # Units: the canonical unit converts to itself.
    assert ind.unit
    assert catalogue.to_canonical(ind, Decimal("1.5"), ind.unit) == Decimal("1.5")
    # Ranges: low < high, inside the plausible bounds; critical limits outside the range.
    assert ind.plausible_low is not None and ind.plausible_high is not None
    assert ind.plausible_low < ind.plausible_high
    for r in ind.ranges:
        assert r.sex in ("", "M", "F")
        assert r.low is not None or r.high is not None
        if r.low is not None and r.high is not None:
            assert r.low < r.high, r
        for bound in (r.low, r.high):
            if bound is not None:
                assert ind.plausible_low <= bound <= ind.plausible_high, (r, ind.plausible_low)
        if r.age_min is not None and r.age_max is not None:
            assert r.age_min <= r.age_max
        assert r.text
        if ind.critical_low is not None and r.low is not None:
            assert ind.critical_low < r.low
        if ind.critical_high is not None and r.high is not None:
            assert ind.critical_high > r.high
    for limit in (ind.critical_low, ind.critical_high):
        if limit is not None:
            assert ind.plausible_low < limit < ind.plausible_high
    # Variation: percentages, CVa the desirable half of CVi unless given.
    if ind.cv_within is not None:
        assert 0 < ind.cv_within < 100
        assert ind.cv_analytical == pytest.approx(ind.cv_within / 2)
    else:
        assert ind.cv_analytical is None


def test_aliases_are_unique_across_entries():
    from careledger.observations.catalogue import _key

    owner: dict[str, str] = {}
    clashes = []
    for ind in ALL:
        names = {
            _key(n) for n in (ind.code, ind.abbreviation, ind.name_zh, ind.name_en, *ind.aliases)
        }
        for name in names:
            if name in owner and owner[name] != ind.code:
                clashes.append((name, owner[name], ind.code))
            owner[name] = ind.code
    assert clashes == []


def test_alias_codes_resolve_to_their_entry_and_never_to_another_entry_code():
    codes = {ind.code for ind in ALL}
    for ind in ALL:
        for code in ind.loinc_aliases:
            assert code not in codes
            assert catalogue.get(code) is ind


def test_catalogue_package_imports_no_django():
    package = Path(catalogue.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("django"), (path.name, name)
                if name.startswith("careledger"):
                    assert name.startswith("careledger.observations.catalogue"), (path.name, name)


# ------------------------------------------------------------------ the brief's named entries


@pytest.mark.parametrize(
    ("code", "abbreviation"),
    [
        ("2345-7", "GLU"),
        ("1558-6", "GLU"),  # fasting glucose → the glucose entry
        ("4548-4", "HbA1c"),
        ("2093-3", "TC"),
        ("2571-8", "TG"),
        ("2085-9", "HDL-C"),
        ("13457-7", "LDL-C"),  # calculated LDL → the direct entry
        ("18262-6", "LDL-C"),
        ("2160-0", "CREA"),
        ("1742-6", "ALT"),
        ("8480-6", "SBP"),
        ("8462-4", "DBP"),
        ("29463-7", "WT"),
        ("8302-2", "HT"),
        ("39156-5", "BMI"),
        ("3084-1", "UA"),
        ("2888-6", "PRO"),
    ],
)
def test_brief_codes(code, abbreviation):
    assert catalogue.get(code).abbreviation == abbreviation


def test_lookup_by_code_and_alias_code():
    assert catalogue.get("13457-7").code == "18262-6"
    assert catalogue.find(" 2345-7 ").code == "2345-7"
    assert catalogue.find("9999-9") is None
    assert catalogue.find("GLU") is None  # codes only; names go through suggest()
    with pytest.raises(KeyError):
        catalogue.get("9999-9")
    assert by_code("2888-6").kind == "ordinal"


def test_brief_variation_figures():
    assert by_code("2345-7").cv_within == 4.7
    assert by_code("4548-4").cv_within == 1.2
    assert by_code("2093-3").cv_within == 5.18
    assert by_code("2160-0").cv_within == 4.4
    assert by_code("1742-6").cv_within == 9.3
    assert by_code("2345-7").cv_analytical == 2.35
    assert by_code("29463-7").cv_within is None


def test_every_within_subject_cv_is_cited_and_cva_is_the_desirable_half():
    """A CVi drives the trend view's significance, so each must name where it came from
    (a "CVi:" citation in `source`) and pair with the desirable CVa = 0.5 · CVi (0004)."""
    with_cv = [ind for ind in catalogue.all_indicators() if ind.cv_within is not None]
    assert len(with_cv) >= 24
    for ind in with_cv:
        assert "CVi:" in ind.source, ind.code
        assert ind.cv_analytical == round(ind.cv_within / 2, 3), ind.code
    for ind in catalogue.all_indicators():
        if ind.cv_within is None:
            assert ind.cv_analytical is None and catalogue.rcv(ind) is None, ind.code
    # Figures added from the sources named in docs/decisions/0004 (one per source).
    assert by_code("3016-3").cv_within == 17.7  # TSH, EuBIVAS thyroid (Bottani 2022)
    assert by_code("718-7").cv_within == 2.8  # haemoglobin, Arch Pathol Lab Med 1992
    assert by_code("2571-8").cv_within == 20.7  # triglyceride, PubMed 2247768
    assert by_code("1834-1").cv_within == 12.0  # AFP, Ricós 2007 healthy median
    assert by_code("2039-6").cv_within == 30.87  # CEA, Scand J Clin Lab Invest
    # Sex-split or range-only figures were not collapsed into one number.
    assert by_code("6690-2").cv_within is None  # WBC: 10.8 % men, 15.7 % women
    assert by_code("777-3").cv_within is None  # PLT: 6.7 % men, 8.6 % women


# ------------------------------------------------------------------ reference ranges


def test_reference_range_by_sex_and_age():
    crea = by_code("2160-0")
    assert reference_range(crea, sex="M", age=30) == ReferenceRange(
        "M", 20, 59, Decimal(57), Decimal(97), "57–97"
    )
    assert reference_range(crea, sex="M", age=65).high == Decimal(111)
    assert reference_range(crea, sex="F", age=45).high == Decimal(73)
    assert reference_range(crea, sex="F", age=70).high == Decimal(81)
    # Unknown sex, unknown age or outside every band: no range rather than a guess.
    assert reference_range(crea, sex="", age=30) is None
    assert reference_range(crea, sex="M", age=None) is None
    assert reference_range(crea, sex="M", age=12) is None
    alt = by_code("1742-6")
    assert reference_range(alt, sex="F", age=None).high == Decimal(40)
    assert reference_range(alt, sex="M", age=None).high == Decimal(50)
    glu = by_code("2345-7")
    assert reference_range(glu, sex="", age=None).text == "3.9–6.1"


def test_sex_specific_range_beats_one_for_any_sex():
    ind = replace(
        by_code("2345-7"),
        ranges=(
            ReferenceRange("", None, None, Decimal(1), Decimal(5), "1–5"),
            ReferenceRange("F", None, None, Decimal(2), Decimal(4), "2–4"),
            ReferenceRange("F", 60, None, Decimal(3), Decimal(6), "3–6"),
        ),
    )
    assert reference_range(ind, sex="M", age=40).text == "1–5"
    assert reference_range(ind, sex="F", age=40).text == "2–4"
    assert reference_range(ind, sex="F", age=70).text == "3–6"
    assert reference_range(ind, sex="F", age=None).text == "2–4"


# ------------------------------------------------------------------ flags


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.7", "LL"),
        ("2.8", "L"),  # critical limits are strict: <2.8
        ("3.8", "L"),
        ("3.9", "N"),
        ("6.1", "N"),  # range bounds are inclusive
        ("6.2", "H"),
        ("22.2", "H"),
        ("22.3", "HH"),
    ],
)
def test_glucose_flags(value, expected):
    assert flag(by_code("2345-7"), Decimal(value), sex="F", age=50) == expected


@pytest.mark.parametrize(
    ("code", "value", "sex", "expected"),
    [
        ("8480-6", "139", "M", "N"),
        ("8480-6", "140", "M", "H"),  # "<140" normal: 140 itself is high
        ("8480-6", "179", "M", "H"),
        ("8480-6", "180", "M", "HH"),  # ≥180 critical, inclusive
        ("8462-4", "110", "F", "HH"),
        ("8462-4", "55", "F", "L"),
        ("2823-3", "2.7", "M", "LL"),
        ("2823-3", "6.3", "M", "HH"),
        ("718-7", "59", "F", "LL"),
        ("718-7", "120", "M", "L"),
        ("718-7", "120", "F", "N"),
        ("777-3", "29", "F", "LL"),
        ("6690-2", "1.9", "M", "LL"),
        ("6690-2", "30.1", "M", "HH"),
        ("2093-3", "5.19", "M", "N"),
        ("2093-3", "5.2", "M", "H"),  # guideline: <5.2 appropriate
        ("2085-9", "0.9", "M", "L"),
        ("2085-9", "2.5", "M", "N"),  # no upper limit
        ("39156-5", "23.9", "M", "N"),
        ("39156-5", "24.0", "M", "H"),
        ("29463-7", "70", "M", ""),  # no range
        ("2160-0", "100", "", ""),  # sex unknown: no range
        ("2857-1", "5", "M", "H"),
        ("2857-1", "5", "F", ""),  # PSA range is for men only
    ],
)
def test_flags(code, value, sex, expected):
    assert flag(by_code(code), Decimal(value), sex=sex, age=45) == expected


@pytest.mark.parametrize(
    ("code", "comparator", "value", "expected"),
    [
        ("30522-7", "<", "0.1", "N"),  # "<0.1" hs-CRP: inside 0–3
        ("1742-6", "<", "5", "L"),  # "<5" ALT, range 9–50: certainly low
        ("1742-6", "<", "9", "L"),  # every value below 9
        ("1742-6", "<=", "9", ""),  # could be exactly 9 (normal) or below
        ("1742-6", "<", "20", ""),  # could be below 9 or inside: side unknown
        ("1742-6", ">", "1000", "H"),
        ("1742-6", ">", "50", "H"),
        ("1742-6", ">=", "50", ""),
        ("2345-7", ">", "33.3", "HH"),
        ("2345-7", "<", "2.0", "LL"),
        ("2345-7", "<", "2.8", "LL"),
        ("2345-7", "<=", "2.8", "L"),
        ("2093-3", "<", "5.2", "N"),
        ("2093-3", ">=", "5.2", "H"),
    ],
)
def test_flags_of_censored_values(code, comparator, value, expected):
    assert flag(by_code(code), Decimal(value), sex="M", age=45, comparator=comparator) == expected


def test_critical_limit_applies_without_a_range():
    ind = replace(by_code("2345-7"), ranges=())
    assert flag(ind, Decimal("1.0"), sex="M", age=40) == "LL"
    assert flag(ind, Decimal("5.0"), sex="M", age=40) == ""


def test_unknown_comparator_is_refused():
    with pytest.raises(ValueError, match="comparator"):
        flag(by_code("2345-7"), Decimal(5), sex="M", age=40, comparator="~")


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        ("2888-6", "阴性", "N"),
        ("2888-6", "-", "N"),
        ("2888-6", "neg", "N"),
        ("2888-6", "±", "A"),
        ("2888-6", "2+", "A"),
        ("25428-4", "阴性(-)", "N"),
        ("5802-4", "阳性", "A"),
        ("20405-7", "±", "N"),  # trace urobilinogen is normal
        ("20405-7", "2+", "A"),
        ("5196-1", "阴性", "N"),
        ("5196-1", "弱阳性", "A"),
    ],
)
def test_ordinal_flags(code, text, expected):
    assert ordinal_flag(by_code(code), text) == expected


def test_ordinal_flag_refuses_junk_and_quantities():
    with pytest.raises(BadValue):
        ordinal_flag(by_code("2888-6"), "abc")
    with pytest.raises(BadValue):
        ordinal_flag(by_code("2345-7"), "阴性")


# ------------------------------------------------------------------ RCV


def test_rcv_glucose_by_hand():
    # CLINICAL_SOURCES.md: σ = √(ln(1+CVa²) + ln(1+CVi²)), up = e^(z√2σ) − 1, down = e^(−z√2σ) − 1.
    # Glucose CVi 4.7 %, CVa 2.35 % (desirable 0.5·CVi):
    # ln(1.00055225) = 0.000552097, ln(1.002209) = 0.002206564, σ = √0.002758661 = 0.0525230
    # z√2σ = 1.96 × 1.4142136 × 0.0525230 = 0.1455878 → up 15.67 %, down −13.55 %.
    down, up = rcv(by_code("2345-7"))
    assert up == pytest.approx(15.672, abs=0.005)
    assert down == pytest.approx(-13.548, abs=0.005)
    sigma = math.sqrt(math.log(1 + 0.0235**2) + math.log(1 + 0.047**2))
    assert up == pytest.approx((math.exp(1.96 * math.sqrt(2) * sigma) - 1) * 100)
    # Close to, but wider upwards than, the symmetric √2·z·√(CVa²+CVi²) = 14.57 %.
    assert -down < 14.57 < up


def test_rcv_none_without_cvi_and_uses_given_cva():
    assert rcv(by_code("29463-7")) is None
    with_cva = replace(by_code("2345-7"), cv_analytical=None)
    assert rcv(with_cva) == rcv(by_code("2345-7"))
    wider = replace(by_code("2345-7"), cv_analytical=5.0)
    assert rcv(wider)[1] > rcv(by_code("2345-7"))[1]


# ------------------------------------------------------------------ suggest and plausibility


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("谷丙转氨酶", "1742-6"),
        ("丙氨酸氨基转移酶", "1742-6"),
        ("GPT", "1742-6"),
        ("alt", "1742-6"),
        ("空腹血糖", "2345-7"),
        ("GLU", "2345-7"),
        ("FPG", "2345-7"),
        ("葡萄糖", "2345-7"),
        ("收缩压", "8480-6"),
        ("高压", "8480-6"),
        ("体重指数", "39156-5"),
        ("BMI", "39156-5"),
        ("尿糖", "25428-4"),
        ("ldl-c", "18262-6"),
        ("13457-7", "18262-6"),
        ("血清总胆固醇测定", "2093-3"),
        ("CA 19-9", "24108-3"),
        ("CA199", "24108-3"),
        ("ＡＬＴ", "1742-6"),
        ("γ-GT", "2324-2"),
        ("中性粒细胞百分比(NEUT%)", "770-8"),
    ],
)
def test_suggest_best_first(text, code):
    found = suggest(text)
    assert found and found[0].code == code


def test_suggest_without_a_match():
    assert suggest("") == []
    assert suggest("   ") == []
    assert suggest("zzzz-qqqq") == []


def test_plausible_bounds():
    glu = by_code("2345-7")
    assert catalogue.is_plausible(glu, Decimal("5.6"))
    assert not catalogue.is_plausible(glu, Decimal(500))  # 500 mg/dL typed as mmol/L
    assert not catalogue.is_plausible(glu, Decimal("-1"))
