"""A client's sheet from real facts (tags, risk levels, questionnaire scores through their own
apps), issuing it (the snapshot, the sealed note, the ledger), and an issued sheet keeping the
wording it was issued with."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection

from advice.conftest import answer, blood_pressure, phq9, tag, tcm
from careledger.advice.catalogue_services import do_edit_item, do_retire_item
from careledger.advice.gather import client_keys
from careledger.advice.models import AdviceItem, AdviceSheet, AdviceSheetItem
from careledger.advice.selectors import advice_sheet, issued_sheet, latest_issued_sheet
from careledger.advice.services import do_issue_sheet
from careledger.clients.validation import ValidationFailed
from careledger.ledger.models import LedgerEntry
from careledger.ledger.verify import verify
from test_no_plaintext_at_rest import dump_database

pytestmark = pytest.mark.django_db

NOTE = "王先生：请把每天的血压记在小本子上，下次复诊带来。"


def codes(page):  # type: ignore[no-untyped-def]
    return [e.item.code for e in page.sheet.specific]


def test_keys_come_from_tags_risk_levels_and_questionnaires(world, member):
    tag(world, member, "smoker", "吸烟")
    blood_pressure(world, member, 150, 95)
    answer(world, member, "phq9", phq9(2, 2, 1, 1, 1, 1, 1, 1, 0))
    answer(world, member, "tcm_constitution", tcm("qixu"))
    found = client_keys(member.id, member.institution_id)
    assert found.sources == {"tags": "available", "risks": "available", "scores": "available"}
    assert {
        "tag:smoker",
        "risk:bp_grade:grade_1",
        "risk:phq9:moderate",
        "constitution:qixu",
    } <= found.keys
    assert "risk:phq9:item9_positive" not in found.keys


def test_a_client_with_nothing_specific_gets_the_general_section(world, member):
    page = advice_sheet(world.manager, member.id)
    assert page.sheet.sections == ()
    assert "general.diet.variety" in [e.item.code for e in page.sheet.general]
    assert page.issued == []


def test_the_sheet_groups_by_domain_says_why_and_cites_the_source(world, member):
    tag(world, member, "hypertension", "高血压")
    blood_pressure(world, member, 150, 95)
    page = advice_sheet(world.manager, member.id)
    domains = [s.domain for s in page.sheet.sections]
    assert domains == sorted(
        domains, key=["follow_up", "diet", "exercise", "lifestyle", "mental", "tcm"].index
    )
    salt = next(e for e in page.sheet.specific if e.item.code == "htn.diet.salt")
    assert salt.reasons == ("Blood-pressure grade grade 1 hypertension", "高血压")
    assert "中国高血压防治指南2018年修订版" in salt.item.citation
    assert codes(page).count("htn.diet.salt") == 1
    assert "general.diet.salt" not in [e.item.code for e in page.sheet.general]


def test_chinese_reasons_read_as_the_issue_asks(world, member):
    from django.utils import translation

    blood_pressure(world, member, 150, 95)
    with translation.override("zh-hans"):
        page = advice_sheet(world.manager, member.id)
    salt = next(e for e in page.sheet.specific if e.item.code == "htn.diet.salt")
    assert salt.reasons == ("血压分级 1级高血压",)


def test_item9_positive_puts_urgent_referral_first_and_flags_the_sheet(world, member):
    answer(world, member, "phq9", phq9(3, 3, 3, 3, 3, 3, 2, 2, 1))
    page = advice_sheet(world.manager, member.id)
    mental = next(s for s in page.sheet.sections if s.domain == "mental")
    assert mental.items[0].item.code == "mood.item9"
    assert {"mood.item9", "mood.severe"} <= {e.item.code for e in page.sheet.needs_clinician}


def test_issuing_stores_the_snapshot_the_keys_the_issuer_and_the_sealed_note(world, member, caplog):
    caplog.set_level(logging.DEBUG)
    tag(world, member, "hypertension", "高血压")
    page = advice_sheet(world.manager, member.id)
    before = LedgerEntry.objects.count()
    sheet = do_issue_sheet(
        actor=world.manager, client_id=member.id, note=NOTE, fingerprint=page.fingerprint
    )
    assert sheet.issued_by == world.manager
    assert sheet.client_keys == ["tag:hypertension"] and sheet.matched_keys == ["tag:hypertension"]
    rows = list(AdviceSheetItem.objects.filter(sheet=sheet).select_related("item"))
    assert len(rows) == len(page.sheet.items)
    assert {r.item.code for r in rows} == {e.item.code for e in page.sheet.items}
    salt = next(r for r in rows if r.item.code == "htn.diet.salt")
    assert salt.groups == [["tag:hypertension"]] and not salt.general
    # One event, sealing the sheet and its items; counts only, nothing of what was advised.
    events = LedgerEntry.objects.filter(seq__gte=before)
    assert [(e.action, e.client_id) for e in events] == [("advice.issue", str(member.id))]
    leaf = json.loads(events[0].leaf)
    assert leaf["detail"] == {"items": len(rows), "keys": 1, "note": True}
    assert len(leaf["seals"]) == 1 + len(rows)
    assert "htn" not in events[0].leaf and "hypertension" not in events[0].leaf
    # The note is ciphertext at rest, and nowhere in the ledger or the logs.
    dump = dump_database()
    assert NOTE not in dump and NOTE.encode().hex() not in dump
    assert NOTE not in caplog.text
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM advice_advicesheet")
        (raw,) = cursor.fetchone()
    assert raw and NOTE not in raw
    assert AdviceSheet.objects.get(pk=sheet.pk).note == NOTE
    assert verify().ok


def test_an_issued_sheet_keeps_the_wording_it_was_issued_with(world, member):
    tag(world, member, "hypertension", "高血压")
    first = do_issue_sheet(actor=world.manager, client_id=member.id)
    old = AdviceItem.objects.get(institution=world.inst, code="htn.diet.dash", version=1)
    data = {
        name: getattr(old, name)
        for name in ("domain", "priority", "title_en", "body_en", "citations", "applies")
    } | {"title": old.title, "body": "新的措辞：多吃蔬果和全谷物。", "replaces": old.replaces}
    do_edit_item(actor=world.admin, code="htn.diet.dash", data=data)
    do_retire_item(actor=world.admin, code="htn.exercise")
    shown = issued_sheet(world.doctor, member.id, first.id)
    dash = next(i for _d, items in shown.sections for i in items if i.code == "htn.diet.dash")
    assert (dash.version, dash.body, dash.still_current) == (1, old.body, False)
    assert any(i.code == "htn.exercise" for _d, items in shown.sections for i in items)
    assert dash.reasons == ("高血压",)  # the institution's own tag name (no English given)
    now = advice_sheet(world.manager, member.id)
    assert "htn.exercise" not in codes(now)
    new_dash = next(e for e in now.sheet.specific if e.item.code == "htn.diet.dash")
    assert new_dash.item.version == 2 and new_dash.item.body.startswith("新的措辞")


def test_a_sheet_that_changed_since_it_was_seen_is_not_issued(world, member):
    seen = advice_sheet(world.manager, member.id)
    tag(world, member, "smoker", "吸烟")
    with pytest.raises(ValidationFailed):
        do_issue_sheet(actor=world.manager, client_id=member.id, fingerprint=seen.fingerprint)
    assert not AdviceSheet.objects.exists()
    fresh = advice_sheet(world.manager, member.id)
    assert do_issue_sheet(actor=world.manager, client_id=member.id, fingerprint=fresh.fingerprint)


def test_issued_sheets_are_listed_newest_first_and_the_latest_is_found(world, member):
    assert latest_issued_sheet(world.manager, member.id) is None
    first = do_issue_sheet(actor=world.manager, client_id=member.id)
    second = do_issue_sheet(actor=world.doctor, client_id=member.id, note="复诊后更新")
    page = advice_sheet(world.nurse, member.id)
    assert [s.id for s in page.issued] == [second.id, first.id]
    assert [s.issued_by for s in page.issued] == ["doctor", "manager"]
    assert [s.has_note for s in page.issued] == [True, False]
    latest = latest_issued_sheet(world.manager, member.id)
    assert latest is not None and latest.id == second.id and latest.note == "复诊后更新"


def test_reads_are_ledgered_one_event_each(world, member):
    sheet = do_issue_sheet(actor=world.manager, client_id=member.id)
    before = LedgerEntry.objects.count()
    advice_sheet(world.nurse, member.id)
    issued_sheet(world.doctor, member.id, sheet.id)
    events = LedgerEntry.objects.filter(seq__gte=before).order_by("seq")
    assert [(e.action, e.actor_id) for e in events] == [
        ("advice.view", str(world.nurse.id)),
        ("advice.sheet.view", str(world.doctor.id)),
    ]
    assert json.loads(events[1].leaf)["resource"] == {"type": "AdviceSheet", "id": str(sheet.id)}


def test_a_sheet_of_another_client_is_not_found(world, member):
    other = world.enrol(name="司马青衫")
    sheet = do_issue_sheet(actor=world.manager, client_id=other.client_id)
    with pytest.raises(AdviceSheet.DoesNotExist):
        issued_sheet(world.manager, member.id, sheet.id)
