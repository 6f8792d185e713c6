"""The booking pages read in Chinese and do what they say: the staff page books, moves and
cancels; the desk checks in by card; the admin pages create, publish and version a package and
set capacity; the portal books, moves and cancels the client's own check-up and refuses another
client's. Query counts keep the lists free of N+1."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careledger.booking import services
from careledger.booking.models import Appointment, AppointmentStatus, PackageVersion
from careledger.clients.models import Client, MembershipCard
from careledger.ledger.models import LedgerEntry

from .conftest import next_open_day, open_days


def portal_login(http, client_id):  # type: ignore[no-untyped-def]
    from careledger.portal.services import _portal_user

    user = _portal_user(Client.objects.get(pk=client_id))
    http.force_login(user)
    return user


def book(world, catalogue, client_id, day):  # type: ignore[no-untyped-def]
    return services.do_book(
        actor=world.manager,
        client_id=client_id,
        version_id=catalogue.version.id,
        branch_id=catalogue.branch.id,
        day=day,
    )


def test_staff_page_books_moves_and_cancels_in_chinese(world, catalogue, login):
    client_id = world.enrol().client_id
    http = login(world.manager)
    url = reverse("booking:client", args=[client_id])
    page = http.get(url, {"version": catalogue.version.id, "branch": catalogue.branch.id})
    text = page.content.decode()
    assert page.status_code == 200
    assert "体检预约" in text and "基础体检套餐" in text and "¥599.00" in text
    day, later = open_days(catalogue.branch, 2)
    response = http.post(
        url,
        {
            "action": "book",
            "version": catalogue.version.id,
            "branch": catalogue.branch.id,
            "day": day.isoformat(),
            "addon": [str(catalogue.addon_id)],
        },
        follow=True,
    )
    assert "已预约" in response.content.decode()
    row = Appointment.objects.get(client_id=client_id)
    assert row.addons.count() == 1
    http.post(url, {"action": "reschedule", "appointment": row.id, "day": later.isoformat()})
    row.refresh_from_db()
    assert row.day == later
    response = http.post(url, {"action": "cancel", "appointment": row.id}, follow=True)
    row.refresh_from_db()
    assert row.status == AppointmentStatus.CANCELLED
    assert "已取消" in response.content.decode()


def test_a_refusal_is_shown_as_its_message(world, catalogue, login):
    client_id = world.enrol().client_id
    http = login(world.manager)
    url = reverse("booking:client", args=[client_id])
    yesterday = (timezone.localdate() - timezone.timedelta(days=1)).isoformat()
    response = http.post(
        url,
        {"action": "book", "version": catalogue.version.id, "branch": catalogue.branch.id,
         "day": yesterday},
        follow=True,
    )  # fmt: skip
    assert "那一天已经过去" in response.content.decode()
    assert not Appointment.objects.exists()


def test_the_staff_list_has_a_fixed_number_of_queries(world, catalogue, login):
    client_id = world.enrol().client_id
    http = login(world.manager)
    url = reverse("booking:client", args=[client_id])
    days = open_days(catalogue.branch, 4)
    book(world, catalogue, client_id, days[0])
    http.get(url)
    with CaptureQueriesContext(connection) as one:
        http.get(url)
    for day in days[1:]:
        row = book(world, catalogue, client_id, day)
        services.do_cancel(actor=world.manager, appointment_id=row.id)
    with CaptureQueriesContext(connection) as four:
        http.get(url)
    assert len(four) == len(one)


def test_desk_checks_in_by_card_and_lists_only_own_teams(world, catalogue, login):
    enrolled = world.enrol()
    other = world.enrol(team=world.team_b, actor=world.manager_b)
    today = timezone.localdate()
    for cid, actor in ((enrolled.client_id, world.manager), (other.client_id, world.manager_b)):
        row = services.do_book(
            actor=actor, client_id=cid, version_id=catalogue.version.id,
            branch_id=catalogue.branch.id, day=next_open_day(catalogue.branch),
        )  # fmt: skip
        Appointment.objects.filter(pk=row.id).update(day=today)
    http = login(world.nurse)
    url = reverse("booking_desk:desk")
    page = http.get(url, {"branch": catalogue.branch.id}).content.decode()
    assert "前台" in page
    assert page.count("基础体检套餐") == 1  # team B's client is not on team A's list
    assert "张*明" in page  # nurses see masked names
    number = MembershipCard.objects.get(client_id=enrolled.client_id).number
    response = http.post(
        url, {"branch": catalogue.branch.id, "card_number": str(number)}, follow=True
    )
    assert "已签到" in response.content.decode()
    assert Appointment.objects.get(client_id=enrolled.client_id).status == "checked_in"
    response = http.post(url, {"branch": catalogue.branch.id, "card_number": "123"}, follow=True)
    assert "没有有效的会员卡" in response.content.decode()


def test_admin_creates_publishes_and_versions_a_package(world, catalogue, login):
    http = login(world.admin)
    response = http.post(
        reverse("booking_config:packages"),
        {
            "code": "senior",
            "name": "中老年体检套餐",
            "price": "1288.50",
            "min_age": "50",
            "lead_days": "2",
            "horizon_days": "60",
            "cancel_hours": "24",
            "preparation": "空腹",
            "branches": [str(catalogue.branch.id)],
            "items": "空腹血糖 | 2345-7 |\n颈动脉超声 | |\n+ 无痛胃镜 | | gastroscopy | 800",
        },
    )
    version = PackageVersion.objects.get(package__code="senior")
    assert response.status_code == 302 and version.price_fen == 128850
    assert version.items.filter(is_addon=True, addon_price_fen=80000, resource__isnull=False)
    page = http.get(reverse("booking_config:version", args=[version.id])).content.decode()
    assert "保存草稿" in page
    http.post(reverse("booking_config:version", args=[version.id]), {"action": "publish"})
    version.refresh_from_db()
    assert version.status == "published"
    assert LedgerEntry.objects.filter(action="package.version.publish").exists()
    http.post(reverse("booking_config:version", args=[version.id]), {"action": "new_version"})
    draft = PackageVersion.objects.get(package__code="senior", number=2)
    assert draft.status == "draft" and draft.items.count() == 3
    bad = http.post(
        reverse("booking_config:packages"),
        {"code": "x", "name": "x", "price": "12.345", "items": "a"},
        follow=True,
    )
    assert "整数" in bad.content.decode() or "分" in bad.content.decode()
    unknown = http.post(
        reverse("booking_config:packages"),
        {"code": "y", "name": "y", "price": "1", "items": "乱码 | 9999-9 |"},
        follow=True,
    )
    assert "9999-9" in unknown.content.decode()


def test_admin_sets_capacity_and_closes_a_day_but_sees_no_one(world, catalogue, login):
    client_id = world.enrol(name="欧阳明月").client_id
    day = next_open_day(catalogue.branch)
    book(world, catalogue, client_id, day)
    http = login(world.admin)
    url = reverse("booking_config:capacity")
    page = http.get(url, {"branch": catalogue.branch.id}).content.decode()
    assert "1/5" in page and "欧阳明月" not in page
    response = http.post(
        url,
        {"branch": catalogue.branch.id, "action": "capacity", "start": day.isoformat(),
         "end": day.isoformat(), "limit": "0",
         "target": f"package:{catalogue.version.package_id}"},
        follow=True,
    )  # fmt: skip
    assert "不能低于" in response.content.decode()
    http.post(
        url,
        {"branch": catalogue.branch.id, "action": "day", "day": day.isoformat(),
         "state": "closed", "scope": "branch"},
    )  # fmt: skip
    assert not services.day_status(catalogue.branch, day).is_open


def test_clinical_staff_cannot_reach_the_admin_pages(world, catalogue, login):
    http = login(world.manager)
    for name in ("packages", "capacity", "sites"):
        assert http.get(reverse(f"booking_config:{name}")).status_code == 403


def test_portal_client_books_moves_and_cancels_their_own(world, catalogue, client):
    client_id = world.enrol().client_id
    portal_login(client, client_id)
    home = client.get(reverse("portal:home")).content.decode()
    assert "预约体检" in home
    page = client.get(reverse("portal:booking:new")).content.decode()
    assert "基础体检套餐" in page
    day, later = open_days(catalogue.branch, 2)
    page = client.get(reverse("portal:booking:new"), {"version": catalogue.version.id})
    assert "选择日期" in page.content.decode()
    response = client.post(
        reverse("portal:booking:new"),
        {"version": catalogue.version.id, "branch": catalogue.branch.id, "day": day.isoformat()},
        follow=True,
    )
    text = response.content.decode()
    assert "检查前一晚10点后禁食" in text
    row = Appointment.objects.get(client_id=client_id)
    assert row.channel == "portal"
    client.post(reverse("portal:booking:change"), {"id": row.id, "day": later.isoformat()})
    row.refresh_from_db()
    assert row.day == later
    client.post(reverse("portal:booking:list"), {"appointment": row.id})
    row.refresh_from_db()
    assert row.status == "cancelled"


def test_portal_client_cannot_touch_another_clients_booking(world, catalogue, client):
    a = world.enrol().client_id
    b = world.enrol().client_id
    theirs = book(world, catalogue, a, next_open_day(catalogue.branch))
    user_b = portal_login(client, b)
    response = client.get(reverse("portal:booking:change"), {"id": theirs.id})
    assert response.status_code == 403
    client.post(reverse("portal:booking:list"), {"appointment": theirs.id})
    client.post(reverse("portal:booking:change"), {"id": theirs.id, "day": "2030-01-02"})
    theirs.refresh_from_db()
    assert theirs.status == "booked"
    denied = LedgerEntry.objects.filter(actor_id=str(user_b.id), outcome="denied")
    assert denied.count() >= 3
    listing = client.get(reverse("portal:booking:list")).content.decode()
    assert not re.search(str(theirs.id), listing)
