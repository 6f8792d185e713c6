"""Follow-up in a real browser (Debian's Chromium through the shared kit): the nurse's team
queue and the perform page — masked name and number, the script, the outcome form — and the
admin's plan list. Screenshots in test-artifacts/screenshots/ (followup-queue,
followup-perform, followup-plans)."""

from __future__ import annotations

import pytest

from careledger.followup import generation
from careledger.followup.models import FollowupTask
from web.browser_kit import launch_chromium
from web.test_browser import Session

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


def test_nurse_queue_and_perform_page(browser, live_server, transactional_db, world, fu):  # type: ignore[no-untyped-def]
    client_id = world.enrol(name="欧阳明月", phone="13912345678").client_id
    fu.consent(client_id)
    fu.tag_client(client_id)
    fu.plan()
    generation.generate_institution(institution_id=world.inst.id)
    task = FollowupTask.objects.get(client_id=client_id)

    nurse = Session(browser, live_server.url)
    nurse.sign_in("nurse")
    nurse.go("/followup/?scope=team")
    page = nurse.page
    assert "欧**月" in page.locator("#queue-table").inner_text()
    assert "欧阳明月" not in page.content()
    nurse.shot("followup-queue")
    nurse.go(f"/followup/tasks/{task.id}/")
    assert page.locator("#masked-phone").inner_text() == "139****5678"
    assert "13912345678" not in page.content()
    assert "血压" in page.locator("#script").inner_text()
    nurse.shot("followup-perform")
    page.click("#claim")
    page.select_option("#outcome", "reached")
    page.fill("#note", "血压 128/82，按时服药")
    page.click("#save-outcome")
    page.wait_for_selector("#task-closed")
    assert "128/82" in page.locator("#attempts").inner_text()
    nurse.close()

    admin = Session(browser, live_server.url)
    admin.sign_in("admin")
    admin.go("/config/followup-plans/")
    assert "高血压随访" in admin.page.locator("#plans-table").inner_text()
    admin.shot("followup-plans")
    admin.close()
