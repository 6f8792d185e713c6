"""The advice pages, in Chinese (the workbench's default language): a client's sheet (read,
issue, the issued sheet) and the catalogue editor (list and filters, edit into a new version,
errors beside the fields, retire, add, reload)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advice.conftest import tag
from careledger.advice.catalogue_services import do_ensure_builtin
from careledger.advice.models import AdviceItem, AdviceSheet
from careledger.advice.services import do_issue_sheet
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def fingerprint(page: str) -> str:
    return re.search(r'name="fingerprint" value="([0-9a-f]+)"', page).group(1)


def test_the_manager_reads_the_sheet_and_issues_it_with_a_note(world, member, login):
    tag(world, member, "hypertension", "高血压")
    http = login(world.manager)
    page = http.get(f"/clients/{member.id}/advice/")
    assert page.status_code == 200
    body = text(page)
    assert "欧阳明月" in body and "DASH" in body and "因为：" in body
    assert "中国高血压防治指南2018年修订版" in body
    response = http.post(
        f"/clients/{member.id}/advice/",
        {"note": "每周三来测血压", "fingerprint": fingerprint(body)},
    )
    sheet = AdviceSheet.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{member.id}/advice/issued/?sheet={sheet.id}"
    shown = http.get(response["Location"])
    assert "每周三来测血压" in text(shown) and "建议单已开具。" in text(shown)
    assert "DASH" in text(shown)
    listed = text(http.get(f"/clients/{member.id}/advice/"))
    assert f"?sheet={sheet.id}" in listed


def test_the_page_reads_in_chinese_with_the_reason_for_each_item(world, member, login):
    tag(world, member, "hypertension", "高血压")
    http = login(world.doctor)
    body = text(http.get(f"/clients/{member.id}/advice/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "健康建议" in body and "因为：" in body and "来源：" in body
    assert "高血压：严格减盐、增钾" in body and "开具" in body


def test_a_stale_sheet_is_refused_with_the_reason_shown(world, member, login):
    http = login(world.manager)
    seen = fingerprint(text(http.get(f"/clients/{member.id}/advice/")))
    tag(world, member, "smoker", "吸烟")
    response = http.post(f"/clients/{member.id}/advice/", {"note": "", "fingerprint": seen})
    assert response.status_code == 422
    assert "打开页面后建议内容已发生变化" in text(response)
    assert not AdviceSheet.objects.exists()


def test_the_nurse_reads_masked_without_the_issue_form_and_cannot_post(world, member, login):
    http = login(world.nurse)
    page = text(http.get(f"/clients/{member.id}/advice/"))
    assert "欧**月" in page and "欧阳明月" not in page
    assert 'name="fingerprint"' not in page
    assert http.post(f"/clients/{member.id}/advice/", {"note": "x"}).status_code == 403
    assert not AdviceSheet.objects.exists()


def test_the_issued_page_without_a_sheet_a_bad_id_and_another_client_s_sheet(world, member, login):
    http = login(world.manager)
    empty = http.get(f"/clients/{member.id}/advice/issued/")
    assert empty.status_code == 200 and "尚未开具建议单。" in text(empty)
    assert http.get(f"/clients/{member.id}/advice/issued/?sheet=nope").status_code == 404
    other = world.enrol(name="司马青衫")
    theirs = do_issue_sheet(actor=world.manager, client_id=other.client_id)
    assert http.get(f"/clients/{member.id}/advice/issued/?sheet={theirs.id}").status_code == 404


def test_the_sheet_page_costs_the_same_queries_however_many_sheets_were_issued(
    world, member, login
):
    http = login(world.manager)
    do_issue_sheet(actor=world.manager, client_id=member.id)
    http.get(f"/clients/{member.id}/advice/")
    with CaptureQueriesContext(connection) as one:
        http.get(f"/clients/{member.id}/advice/")
    for _ in range(4):
        do_issue_sheet(actor=world.manager, client_id=member.id)
    with CaptureQueriesContext(connection) as five:
        http.get(f"/clients/{member.id}/advice/")
    assert len(five) == len(one)


# --- the catalogue editor -------------------------------------------------------------------


def test_the_admin_lists_and_filters_the_catalogue(world, login):
    http = login(world.admin)
    everything = text(http.get("/config/advice/"))
    assert (
        everything.count('class="catalogue-row"')
        == AdviceItem.objects.filter(institution=world.inst, status="active").count()
    )
    tcm = text(http.get("/config/advice/?domain=tcm"))
    assert tcm.count('class="catalogue-row"') == 17
    bp = text(http.get("/config/advice/?key=bp_grade"))
    assert 'data-code="htn.diet.salt"' in bp and 'data-code="tcm.qixu.diet"' not in bp
    general = text(http.get("/config/advice/?key=general"))
    assert (
        'data-code="general.diet.variety"' in general and 'data-code="htn.diet.dash"' not in general
    )
    assert 'data-code="mood.item9"' in text(http.get("/config/advice/?q=12356"))


def test_the_admin_edits_into_a_new_version_and_sees_the_keys(world, login):
    http = login(world.admin)
    page = http.get("/config/advice/item/?code=htn.diet.salt")
    assert page.status_code == 200
    body = text(page)
    assert "tag:hypertension" in body and "risk:bp_grade:grade_1" in body and "v1" in body
    row = AdviceItem.objects.get(institution=world.inst, code="htn.diet.salt")
    form = {
        "domain": row.domain,
        "priority": "10",
        "title": row.title,
        "body": row.body + "本中心免费发放限盐勺。",
        "title_en": row.title_en,
        "body_en": "",
        "citations": "\n".join(
            f"{c['guideline']} | {c['edition']} | {c['section']}" for c in row.citations
        ),
        "applies": "tag:hypertension\nrisk:bp_grade:grade_1",
        "replaces": "general.diet.salt",
        "change_note": "加本中心措施",
        "op": "save",
    }
    response = http.post("/config/advice/item/?code=htn.diet.salt", form)
    assert response.status_code == 302
    versions = AdviceItem.objects.filter(institution=world.inst, code="htn.diet.salt")
    assert sorted((v.version, v.status) for v in versions) == [(1, "superseded"), (2, "active")]
    new = versions.get(version=2)
    assert new.body.endswith("限盐勺。") and new.applies == [
        ["risk:bp_grade:grade_1"],
        ["tag:hypertension"],
    ]
    assert "加本中心措施" in text(http.get(response["Location"]))


def test_bad_edits_come_back_with_the_errors_beside_the_fields(world, login):
    http = login(world.admin)
    http.get("/config/advice/")
    response = http.post(
        "/config/advice/item/?code=general.diet.salt",
        {
            "domain": "diet",
            "priority": "7",
            "title": "",
            "body": "x",
            "citations": "",
            "applies": "salt",
        },
    )
    assert response.status_code == 422
    body = text(response)
    assert 'id="id_title_err"' in body and 'id="id_citations_err"' in body
    assert 'id="id_applies_err"' in body and "line 1:" in body
    assert AdviceItem.objects.filter(code="general.diet.salt").count() == 1


def test_the_admin_retires_adds_and_reloads(world, member, login):
    http = login(world.admin)
    http.get("/config/advice/")
    assert (
        http.post(
            "/config/advice/item/?code=general.diet.shared_plates", {"op": "retire"}
        ).status_code
        == 302
    )
    assert AdviceItem.objects.get(code="general.diet.shared_plates").status == "retired"
    added = http.post(
        "/config/advice/new/",
        {
            "code": "center.walk",
            "domain": "exercise",
            "priority": "30",
            "title": "本中心健步走",
            "body": "每周六上午健步走。",
            "citations": "中国人群身体活动指南(2021) | 2021年版 | 总则",
            "applies": "",
        },
    )
    assert added.status_code == 302 and added["Location"].endswith("?code=center.walk")
    reload = http.post("/config/advice/load-builtin/")
    assert reload.status_code == 302
    assert "保持不变" in text(http.get("/config/advice/"))
    # The new general item is on the client's sheet, the retired one is not.
    sheet = text(login(world.manager).get(f"/clients/{member.id}/advice/"))
    assert "本中心健步走" in sheet and "公筷分餐" not in sheet


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "auditor"])
def test_clinicians_and_auditors_are_refused_the_editor_and_it_is_ledgered(world, login, who):
    user = getattr(world, who)
    do_ensure_builtin(institution_id=world.inst.id)
    http = login(user)
    for url in (
        "/config/advice/",
        "/config/advice/item/?code=general.diet.salt",
        "/config/advice/new/",
    ):
        assert http.get(url).status_code == 403, url
    assert (
        http.post("/config/advice/item/?code=general.diet.salt", {"op": "retire"}).status_code
        == 403
    )
    assert http.post("/config/advice/load-builtin/").status_code == 403
    assert (
        LedgerEntry.objects.filter(
            actor_id=str(user.id), outcome="denied", action="advice.manage"
        ).count()
        == 5
    )
    assert AdviceItem.objects.get(code="general.diet.salt").status == "active"
