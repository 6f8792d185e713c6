"""The booking API: the same rules and refusals as the pages, as JSON with a stable code
(409 when the world changed — full, already booked; 422 when the input can never be right),
outsiders refused and ledgered, and a fixed number of queries for the list."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from careledger.booking.models import Appointment
from careledger.clients.models import MembershipCard
from careledger.ledger.models import LedgerEntry

from .conftest import make_catalogue, next_open_day, open_days


def url(client_id) -> str:  # type: ignore[no-untyped-def]
    return f"/api/clients/{client_id}/bookings"


def body(cat, day, **extra):  # type: ignore[no-untyped-def]
    return {
        "version_id": str(cat.version.id),
        "branch_id": str(cat.branch.id),
        "day": day.isoformat(),
        **extra,
    }


def test_book_list_move_and_cancel_through_the_api(world, catalogue, login):
    client_id = world.enrol().client_id
    http = login(world.manager)
    day, later = open_days(catalogue.branch, 2)
    created = http.post(
        url(client_id),
        body(catalogue, day, addon_ids=[str(catalogue.addon_id)]),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == "booked" and data["total_fen"] == 59900 + 20000
    assert data["channel"] == "api"
    moved = http.patch(
        url(client_id),
        {"appointment_id": data["id"], "action": "reschedule", "day": later.isoformat()},
        content_type="application/json",
    )
    assert moved.status_code == 200 and moved.json()["day"] == later.isoformat()
    cancelled = http.patch(
        url(client_id),
        {"appointment_id": data["id"], "action": "cancel"},
        content_type="application/json",
    )
    assert cancelled.json()["status"] == "cancelled"
    listed = http.get(url(client_id)).json()
    assert [r["id"] for r in listed] == [data["id"]]


def test_refusals_have_codes_and_statuses(world, login):
    cat = make_catalogue(world, limit=1, sex="F")
    man = world.enrol(sex="M").client_id
    woman, other = world.enrol(sex="F").client_id, world.enrol(sex="F").client_id
    http = login(world.manager)
    day = next_open_day(cat.branch)
    post = lambda cid, b: http.post(url(cid), b, content_type="application/json")  # noqa: E731
    past = post(woman, body(cat, timezone.localdate() - dt.timedelta(days=3)))
    assert (past.status_code, past.json()["code"]) == (422, "past_date")
    assert post(man, body(cat, day)).json()["code"] == "unsuitable_sex"
    holiday = post(woman, body(cat, dt.date(2026, 10, 1)))
    assert holiday.json()["code"] in {"public_holiday", "past_date"}
    assert post(woman, body(cat, day)).status_code == 201
    full = post(other, body(cat, day))
    assert (full.status_code, full.json()["code"]) == (409, "full")
    assert full.json()["detail"]
    again = post(woman, body(cat, day))
    assert (again.status_code, again.json()["code"]) == (409, "already_booked")
    waiting = post(other, body(cat, day, waitlist=True))
    assert waiting.status_code == 201 and waiting.json()["status"] == "waitlisted"
    shape = post(woman, {"version_id": "nope", "branch_id": str(cat.branch.id), "day": "x"})
    assert shape.status_code == 422


def test_offers_list_packages_and_days_with_places(world, catalogue, login):
    client_id = world.enrol().client_id
    http = login(world.manager)
    packages = http.get(f"{url(client_id)}/offers").json()
    assert [p["code"] for p in packages["packages"]] == ["basic"] and packages["days"] == []
    days = http.get(
        f"{url(client_id)}/offers",
        {"version_id": catalogue.version.id, "branch_id": catalogue.branch.id, "days": 10},
    ).json()["days"]
    assert len(days) == 10
    assert any(d["bookable"] and d["left"] == 5 for d in days)
    assert not days[0]["bookable"]  # today is inside the lead time


def test_outsiders_are_refused_and_ledgered(world, catalogue, login):
    client_id = world.enrol().client_id
    day = next_open_day(catalogue.branch)
    for who in ("manager_b", "outsider", "admin", "auditor", "analyst"):
        user = getattr(world, who)
        http = login(user)
        before = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
        assert http.get(url(client_id)).status_code in {403, 404}, who
        created = http.post(url(client_id), body(catalogue, day), content_type="application/json")
        assert created.status_code in {403, 404}, who
        after = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
        assert after > before, who
    assert not Appointment.objects.exists()


def test_the_list_has_a_fixed_number_of_queries(world, catalogue, login):
    client_id = world.enrol().client_id
    http = login(world.manager)
    days = open_days(catalogue.branch, 4)
    post = lambda d: http.post(  # noqa: E731
        url(client_id), body(catalogue, d, addon_ids=[str(catalogue.addon_id)]),
        content_type="application/json",
    )  # fmt: skip
    post(days[0])
    http.get(url(client_id))
    with CaptureQueriesContext(connection) as one:
        assert len(http.get(url(client_id)).json()) == 1
    for d in days[1:]:
        rid = post(d).json()["id"]
        http.patch(url(client_id), {"appointment_id": rid, "action": "cancel"},
                   content_type="application/json")  # fmt: skip
    with CaptureQueriesContext(connection) as four:
        assert len(http.get(url(client_id)).json()) == 4
    assert len(four) == len(one)


def test_desk_check_in_through_the_api(world, catalogue, login):
    enrolled = world.enrol()
    http = login(world.nurse)
    created = http.post(
        url(enrolled.client_id),
        body(catalogue, next_open_day(catalogue.branch)),
        content_type="application/json",
    )
    Appointment.objects.filter(pk=created.json()["id"]).update(day=timezone.localdate())
    number = str(MembershipCard.objects.get(client_id=enrolled.client_id).number)
    listed = http.get("/api/bookings/desk", {"branch_id": catalogue.branch.id}).json()
    assert [r["status"] for r in listed] == ["booked"] and "*" in listed[0]["name"]
    done = http.post(
        "/api/bookings/desk",
        {"card_number": number, "branch_id": str(catalogue.branch.id)},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "checked_in"
    unknown = http.post(
        "/api/bookings/desk",
        {"card_number": "0000", "branch_id": str(catalogue.branch.id)},
        content_type="application/json",
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "card_not_found")


def test_config_api_is_for_the_admin_only(world, catalogue, login):
    admin = login(world.admin)
    listed = admin.get("/api/config/packages").json()
    assert listed[0]["status"] == "published" and listed[0]["price_fen"] == 59900
    created = admin.post(
        "/api/config/packages",
        {"code": "women", "name": "女性套餐", "price_fen": 99900, "sex": "F",
         "branch_ids": [str(catalogue.branch.id)],
         "items": [{"name": "乳腺超声"}, {"name": "HPV", "is_addon": True,
                                          "addon_price_fen": 30000}]},
        content_type="application/json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    vid = created.json()["id"]
    assert admin.post(f"/api/config/packages/{vid}/publish").json()["status"] == "published"
    again = admin.put(
        f"/api/config/packages/{vid}",
        {"name": "x", "price_fen": 1},
        content_type="application/json",
    )
    assert (again.status_code, again.json()["code"]) == (422, "version_not_draft")
    float_price = admin.post(
        "/api/config/packages",
        {"code": "f", "name": "f", "price_fen": 99.5},
        content_type="application/json",
    )
    assert float_price.status_code == 422
    manager = login(world.manager)
    assert manager.get("/api/config/packages").status_code == 403
