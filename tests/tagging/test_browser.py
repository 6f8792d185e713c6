"""Tags in a real browser (Debian's Chromium through the shared kit): the admin types a rule
with a mistake and sees the error under its spot as they type (HTMX), previews a valid one on
the population; a health manager sees the client's tags as chips with their history.
Screenshots in test-artifacts/screenshots/ (tag-rule-editor-error, tag-rule-preview,
client-tags)."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.tagging.conftest import Lab, at, condition, person, publish, run

from careledger.tagging import services
from careledger.tagging.services import TagInput
from web.browser_kit import launch_chromium
from web.test_browser import Session

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


def test_rule_editor_error_and_client_tags(browser, live_server, transactional_db, world):  # type: ignore[no-untyped-def]
    lab = Lab(world)
    client = person(world, name="欧阳明月", sex="M", birth_date=dt.date(1958, 4, 2))
    lab.results(client, at(2023), {"8480-6": ("138", "mmHg"), "2345-7": ("5.9", "mmol/L")})
    lab.results(client, at(2024), {"8480-6": ("152", "mmHg"), "2345-7": ("6.4", "mmol/L")})
    condition(world, client, "E78.5")
    publish(world, "hypertension", "latest('8480-6') >= 140 or has_condition('I10')", "高血压")
    publish(
        world, "prediabetes", "latest('2345-7') >= 6.1 and latest('2345-7') < 7.0", "糖尿病前期"
    )
    publish(world, "dyslipidaemia", "has_condition('E78')", "血脂异常")
    run(world)
    vip = services.do_create_tag(
        actor=world.admin, data=TagInput("vip_followup", "重点随访", colour="purple")
    )
    services.do_apply_manual_tag(
        actor=world.doctor, client_id=client.id, tag_id=vip.id, reason="血压控制不佳，每月电话随访"
    )
    draft = services.do_create_tag(
        actor=world.admin,
        data=TagInput("senior_hypertension", "老年高血压", colour="red", category="disease"),
        expression="age >= 60 and has_condition('I10')",
    )

    admin = Session(browser, live_server.url)
    admin.sign_in("admin")
    admin.go(f"/config/tag-rules/{draft.id}/")
    page = admin.page
    page.fill("#id_expression", "age >= 60 and\n  (latest('8480-6') >= 140 or has_conditon('I10'))")
    page.wait_for_selector("#rule-check-error")
    error = page.locator("#rule-check-error").inner_text()
    assert "第 2 行，第 31 列" in error and "未知函数" in error
    assert "^" in page.locator("#rule-check-error .caret").inner_text()
    admin.shot("tag-rule-editor-error")

    page.fill("#id_expression", "age >= 60 and latest('8480-6') >= 140")
    page.wait_for_selector("#rule-check-ok")
    page.click("button:has-text('在全体客户上预览')")
    page.wait_for_selector("#preview-result")
    assert "在 1 位客户中，将有 1 位带有此标签" in page.locator("#preview-result").inner_text()
    assert "欧阳" not in page.content()
    admin.shot("tag-rule-preview")
    admin.close()

    manager = Session(browser, live_server.url)
    manager.sign_in("manager")
    manager.go(f"/clients/{client.id}/")
    chips = manager.page.locator("#profile-tags").inner_text()
    assert "高血压" in chips and "重点随访" in chips
    manager.go(f"/clients/{client.id}/tags/")
    page = manager.page
    assert set(page.locator("#tag-chips .tag-chip").all_inner_texts()) >= {
        "高血压",
        "糖尿病前期",
        "血脂异常",
        "重点随访",
    }
    history = page.locator("#tag-history").inner_text()
    assert "规则第 1 版触发" in history and "152 mmHg" in history
    assert "血压控制不佳" in history
    manager.shot("client-tags")
    manager.go("/clients/?tag=hypertension")
    assert "欧阳明月" in manager.page.locator(".client-table").inner_text()
    manager.shot("client-list-tag-filter")
    manager.close()
