"""Assembling a sheet from the catalogue and a client's keys (pure: no database)."""

from __future__ import annotations

from careledger.advice.assembly import CatalogueItem, assemble
from careledger.advice.keys import vocabulary
from careledger.advice.matching import normalise


def item(code, domain="diet", priority=50, when=(), **kw):  # type: ignore[no-untyped-def]
    return CatalogueItem(
        id=f"id-{code}-{kw.get('version', 1)}",
        code=code,
        version=kw.pop("version", 1),
        domain=domain,
        title=code,
        body="…",
        priority=priority,
        applies=normalise(when),
        **kw,
    )


CATALOGUE = [
    item("g.salt", "diet", 40),
    item("g.move", "exercise", 10),
    item(
        "htn.salt", "diet", 10, ["tag:hypertension", "risk:bp_grade:grade_1"], replaces=("g.salt",)
    ),
    item("htn.move", "exercise", 10, ["tag:hypertension"]),
    item("htn.see", "follow_up", 10, ["risk:bp_grade:grade_2"], needs_clinician=True),
    item("dm.diet", "diet", 5, ["tag:diabetes"]),
    item("both", "lifestyle", 5, [["tag:diabetes", "tag:hypertension"]]),
    item("tcm.qixu", "tcm", 20, ["constitution:qixu"]),
]


def codes(entries):  # type: ignore[no-untyped-def]
    return [e.item.code for e in entries]


def test_nothing_specific_gives_the_general_section_only():
    sheet = assemble(CATALOGUE, [])
    assert sheet.sections == ()
    assert codes(sheet.general) == ["g.salt", "g.move"]  # diet before exercise
    assert all(e.reasons == () for e in sheet.general)


def test_items_grouped_by_domain_in_order_and_by_priority_within():
    keys = {"tag:hypertension", "tag:diabetes", "constitution:qixu"}
    sheet = assemble(CATALOGUE, keys)
    assert [s.domain for s in sheet.sections] == ["diet", "exercise", "lifestyle", "tcm"]
    assert codes(sheet.sections[0].items) == ["dm.diet", "htn.salt"]  # priority 5 before 10
    assert codes(sheet.sections[2].items) == ["both"]


def test_an_item_matched_by_several_keys_appears_once_listing_why():
    sheet = assemble(
        CATALOGUE, {"tag:hypertension", "risk:bp_grade:grade_1"}, label=vocabulary().label
    )
    salt = [e for e in sheet.specific if e.item.code == "htn.salt"]
    assert len(salt) == 1
    assert salt[0].reasons == ("血压分级 1级高血压", "高血压")
    assert salt[0].keys == ("risk:bp_grade:grade_1", "tag:hypertension")


def test_an_and_group_gives_one_reason_naming_both_keys():
    sheet = assemble(CATALOGUE, {"tag:hypertension", "tag:diabetes"}, label=vocabulary().label)
    both = next(e for e in sheet.specific if e.item.code == "both")
    assert both.reasons == ("糖尿病 + 高血压",)


def test_a_specific_item_replaces_the_general_one_it_names():
    sheet = assemble(CATALOGUE, {"tag:hypertension"})
    assert "g.salt" not in codes(sheet.general)
    assert sheet.replaced == {"g.salt": "htn.salt"}
    assert "g.move" in codes(sheet.general)


def test_a_replaced_item_replaces_nothing_and_specific_items_can_be_replaced():
    catalogue = [
        item("limit", "lifestyle", 40, ["tag:drinker"]),
        item("none", "lifestyle", 38, [["tag:drinker", "tag:gout"]], replaces=("limit",)),
        item("g.alcohol", "diet", 42, replaces=()),
    ]
    assert codes(assemble(catalogue, {"tag:drinker"}).specific) == ["limit"]
    sheet = assemble(catalogue, {"tag:drinker", "tag:gout"})
    assert codes(sheet.specific) == ["none"]
    assert sheet.replaced == {"limit": "none"}


def test_needs_clinician_items_are_listed_apart_and_keys_no_item_answers_are_reported():
    sheet = assemble(CATALOGUE, {"risk:bp_grade:grade_2", "tag:smoker"})
    assert codes(sheet.needs_clinician) == ["htn.see"]
    assert sheet.matched_keys == {"risk:bp_grade:grade_2"}
    assert sheet.unanswered_keys == {"tag:smoker"}


def test_one_item_per_code_the_highest_version_wins():
    older = item("dm.diet", "diet", 5, ["tag:diabetes"], version=1)
    newer = item("dm.diet", "diet", 5, ["tag:diabetes"], version=2)
    sheet = assemble([newer, older], {"tag:diabetes"})
    assert [(e.item.code, e.item.version) for e in sheet.specific] == [("dm.diet", 2)]
