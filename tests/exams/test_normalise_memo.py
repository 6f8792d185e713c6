"""Normalisation's shortcuts change nothing: a plain number is read as the general steps read
it, and a remembered value reads the same for the same indicator, never for another one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.exams.pipeline_kit import result

from careledger.exams import normalise as norm_module
from careledger.exams.normalise import Normalised, Rejected, normalise
from careledger.observations import catalogue
from careledger.observations.catalogue import values

WHEN = dt.datetime(2024, 5, 6, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
INDICATORS = catalogue.all_indicators()
plain = st.from_regex(r"[0-9]{1,9}(\.[0-9]{1,9})?", fullmatch=True)


def read(raw: str, ind: catalogue.Indicator) -> values.ParsedValue | str:
    try:
        return values.parse_value(raw, ind)
    except values.BadValue as exc:
        return f"BadValue: {exc}"


@settings(max_examples=300, deadline=None)
@given(plain, st.sampled_from(INDICATORS))
def test_a_plain_number_reads_as_the_general_steps_read_it(raw, ind):
    # A leading space takes the general path (folding, spaces, qualitative words, comparators,
    # flags, commas); without it a plain number takes the shortcut.
    general = read(" " + raw, ind)
    assert read(raw, ind) == (
        general
        if isinstance(general, values.ParsedValue)
        # Only the echoed input differs ("' 1'" against "'1'"); the rest of the message may
        # hold the same characters (the strip scale "± 1+" for raw "1").
        else general.replace(repr(" " + raw), repr(raw), 1)
    )


def outcome(code: str, value: str, unit: str = "") -> Normalised | Rejected:
    return normalise(
        result(code, value, unit),
        report_effective_at=WHEN,
        sex="F",
        birth_date=dt.date(1980, 1, 1),
        local_map={},
    )


def test_a_remembered_value_reads_alike_and_only_for_its_own_indicator():
    norm_module._VALUES.clear()
    first = outcome("2345-7", "5.6", "mmol/L")
    again = outcome("2345-7", "5.6", "mmol/L")
    assert first == again and isinstance(first, Normalised)
    assert first.value == Decimal("5.600000")
    # The same text on an ordinal strip reads on the strip's scale, or not at all.
    strip = outcome("2888-6", "5.6")
    assert isinstance(strip, Rejected) and strip.reason == "bad_value"
    assert outcome("2888-6", "1+") == outcome("2888-6", "1+")
    bad = [outcome("2345-7", "5..6", "mmol/L") for _ in range(2)]
    assert bad[0] == bad[1] and isinstance(bad[0], Rejected) and "5..6" in bad[0].message


def test_the_memo_stays_bounded(monkeypatch):
    monkeypatch.setattr(norm_module, "_MEMO_MAX", 10)
    norm_module._VALUES.clear()
    for i in range(25):
        outcome("2345-7", f"5.{i}", "mmol/L")
    assert 0 < len(norm_module._VALUES) <= 10
