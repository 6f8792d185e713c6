"""Applicability keys and matching (pure: no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careledger.advice import keys as K
from careledger.advice.matching import (
    InvalidApplicability,
    format_text,
    is_general,
    keys_of,
    normalise,
    parse_text,
    satisfied,
)


def test_keys_of_the_three_families_parse_and_normalise():
    assert K.parse(" Tag:Hypertension ") == K.Key("tag", "hypertension")
    assert str(K.parse("risk:bp_grade:grade_1")) == "risk:bp_grade:grade_1"
    assert K.parse("RISK:ckd_epi_2021:G3a") == K.Key("risk", "ckd_epi_2021", "g3a")
    assert str(K.parse("constitution:qixu")) == "constitution:qixu"
    assert K.risk("CKD_EPI_2021", "G3b") == "risk:ckd_epi_2021:g3b"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("hypertension", "starts with tag:"),
        ("flag:x", "starts with tag:"),
        ("risk:bp_grade", "risk:<model id>:<level>"),
        ("tag:", "tag:<tag code>"),
        ("constitution:气虚", "constitution:<code>"),
        ("tag:a b", "tag:<tag code>"),
    ],
)
def test_a_malformed_key_is_refused_naming_the_expected_shape(raw, says):
    with pytest.raises(K.InvalidKey, match=says.replace("(", r"\(").replace(")", r"\)")):
        K.parse(raw)


def test_groups_are_and_alternatives_are_or():
    applies = normalise([["tag:diabetes", "tag:hypertension"], "risk:bp_grade:grade_2"])
    assert applies == (("risk:bp_grade:grade_2",), ("tag:diabetes", "tag:hypertension"))
    assert satisfied(applies, frozenset({"tag:diabetes"})) == ()
    assert satisfied(applies, frozenset({"tag:diabetes", "tag:hypertension"})) == (
        ("tag:diabetes", "tag:hypertension"),
    )
    both = frozenset({"tag:diabetes", "tag:hypertension", "risk:bp_grade:grade_2"})
    assert len(satisfied(applies, both)) == 2
    assert keys_of(applies) == {"tag:diabetes", "tag:hypertension", "risk:bp_grade:grade_2"}


def test_no_group_means_general_advice():
    assert is_general(normalise([]))
    assert satisfied((), frozenset({"tag:x"})) == ()


def test_normalise_sorts_deduplicates_and_lists_every_bad_key():
    assert normalise(["tag:B", "tag:b", ["tag:a", "tag:A"]]) == (("tag:a",), ("tag:b",))
    with pytest.raises(InvalidApplicability) as caught:
        normalise(["tag:ok", "oops", ["risk:x"], []])
    assert len(caught.value.problems) == 3


def test_the_editor_text_form_round_trips_and_points_at_the_line():
    text = "tag:hypertension\n# a comment\n\ntag:diabetes & tag:overweight  # both\n"
    applies = parse_text(text)
    assert applies == (("tag:hypertension",), ("tag:diabetes", "tag:overweight"))
    assert parse_text(format_text(applies)) == applies
    assert parse_text("") == ()
    with pytest.raises(InvalidApplicability) as caught:
        parse_text("tag:ok\nbp_grade:grade_1\ntag:a & ")
    assert caught.value.problems[0].startswith("line 2:")
    assert caught.value.problems[1].startswith("line 3:")


CODES = st.sampled_from(["hypertension", "diabetes", "smoker", "obesity", "qixu"])
KEYSETS = st.frozensets(CODES.map(K.tag), max_size=5)


@given(
    groups=st.lists(st.lists(CODES.map(K.tag), min_size=1, max_size=3), max_size=4), have=KEYSETS
)
def test_a_group_is_satisfied_exactly_when_all_its_keys_are_present(groups, have):
    applies = normalise(groups)
    hits = satisfied(applies, have)
    assert all(set(g) <= have for g in hits)
    assert all(not set(g) <= have for g in applies if g not in hits)
    # More keys never un-match an item (monotone).
    assert set(hits) <= set(satisfied(applies, have | {K.tag("smoker")}))
