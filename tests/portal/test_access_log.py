"""“谁查看了我的档案”: every ledger entry about the signed-in client, in human words, newest
first, paged; staff names only where the institution allows; the client's own portal reads
left out unless asked for; reading it is ledgered too."""

from __future__ import annotations

import json

import pytest

from careledger.access.enforce import AccessDenied
from careledger.clients import selectors as client_selectors
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db
PHONE = "13912340000"


@pytest.fixture
def member(world):  # type: ignore[no-untyped-def]
    return world.enrol(name="欧阳明月", phone=PHONE)


def test_staff_accesses_appear_in_human_words(world, member, sign_in) -> None:  # type: ignore[no-untyped-def]
    client_selectors.get_client(world.doctor, member.client_id)
    client_selectors.search_clients(world.nurse, PHONE)
    with pytest.raises(AccessDenied):
        client_selectors.get_client(world.manager_b, member.client_id)
    page = sign_in(PHONE).http.get("/portal/access-log/").content.decode()
    assert "查看档案" in page and "医生" in page and "健康管理部" in page and "诊疗照护" in page
    assert "搜索时找到您" in page and "随访护士" in page
    assert "已拒绝" in page or "拒绝" in page
    assert "建档开卡" in page
    # Names stay hidden by default: the role is shown, not who.
    assert "doctor" not in page and "nurse" not in page


def test_staff_names_are_shown_when_the_institution_allows(world, member, sign_in) -> None:  # type: ignore[no-untyped-def]
    world.inst.portal_shows_staff_names = True
    world.inst.save(update_fields=["portal_shows_staff_names"])
    client_selectors.get_client(world.doctor, member.client_id)
    page = sign_in(PHONE).http.get("/portal/access-log/").content.decode()
    assert "医生 · 健康管理部 · doctor" in page


def test_newest_first_and_paged(world, member, sign_in) -> None:  # type: ignore[no-untyped-def]
    for _ in range(25):
        client_selectors.get_client(world.doctor, member.client_id)
    p = sign_in(PHONE)
    first = p.http.get("/portal/access-log/")
    rows = first.context["rows"]
    assert len(rows) == 20
    assert [r.seq for r in rows] == sorted((r.seq for r in rows), reverse=True)
    second = p.http.get("/portal/access-log/", {"page": 2}).context["rows"]
    assert second and max(r.seq for r in second) < min(r.seq for r in rows)
    assert p.http.get("/portal/access-log/", {"page": "x"}).status_code == 200


def test_own_portal_activity_is_left_out_unless_asked_for(world, member, sign_in) -> None:  # type: ignore[no-untyped-def]
    p = sign_in(PHONE)
    p.http.get("/portal/")
    p.http.get("/portal/access-log/")
    rows = p.http.get("/portal/access-log/").context["rows"]
    assert not any(r.is_mine for r in rows)
    mine = p.http.get("/portal/access-log/", {"mine": "1"})
    assert any(
        r.is_mine and r.action_code == "portal.access_log.view" for r in mine.context["rows"]
    )
    assert "您本人" in mine.content.decode()


def test_reading_the_log_is_ledgered(world, member, sign_in) -> None:  # type: ignore[no-untyped-def]
    p = sign_in(PHONE)
    p.http.get("/portal/access-log/", {"page": 1})
    [entry] = LedgerEntry.objects.filter(action="portal.access_log.view")
    assert entry.client_id == str(member.client_id)
    assert json.loads(entry.leaf)["role"] == "client"
    assert not LedgerEntry.objects.filter(action="portal.profile.view").exists()  # not opened


def test_the_home_page_shows_the_card_and_the_latest_accesses(world, member, sign_in) -> None:  # type: ignore[no-untyped-def]
    client_selectors.get_client(world.doctor, member.client_id)
    p = sign_in(PHONE)
    response = p.http.get("/portal/")
    page = response.content.decode()
    assert "欧阳明月" in page and member.card_number in page and "金卡" in page
    assert "谁查看了我的档案" in page and "查看档案" in page
    assert (
        LedgerEntry.objects.filter(
            action="portal.profile.view", client_id=str(member.client_id)
        ).count()
        == 1
    )


def test_the_log_reads_in_english_too(world, member, sign_in) -> None:  # type: ignore[no-untyped-def]
    client_selectors.get_client(world.doctor, member.client_id)
    p = sign_in(PHONE)
    page = p.http.get("/portal/access-log/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Viewed your record" in page and "Doctor" in page and "How to check a receipt" in page


def test_unknown_actions_still_show(world, member, sign_in) -> None:  # type: ignore[no-untyped-def]
    from django.db import transaction

    from careledger.access.enforce import actor_of
    from careledger.ledger import services as ledger

    with transaction.atomic():
        ledger.record(
            actor=actor_of(world.doctor),
            action="followup.call",
            purpose="care",
            client_id=str(member.client_id),
        )
    page = sign_in(PHONE).http.get("/portal/access-log/").content.decode()
    assert "其他操作（followup.call）" in page


def test_the_page_costs_the_same_queries_for_3_or_20_entries(world, member, sign_in) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    p = sign_in(PHONE)
    for _ in range(3):
        client_selectors.get_client(world.doctor, member.client_id)
    with CaptureQueriesContext(connection) as few:
        p.http.get("/portal/access-log/")
    for _ in range(30):
        client_selectors.get_client(world.nurse, member.client_id)
    with CaptureQueriesContext(connection) as many:
        p.http.get("/portal/access-log/")
    assert len(many) == len(few)
