"""The store and membership pages and API through HTTP: the staff order page (place, pay at
the desk, refund, cancel; booking's and the store's messages shown in Chinese), the portal's
own orders and card (another client's order is not found), the admin's level table, the JSON
API (integer fen; a float is refused), and query counts on the lists."""

from __future__ import annotations

import pytest

from careledger.clients.models import Client
from careledger.store.models import Order
from store.conftest import next_open_day, place

pytestmark = pytest.mark.django_db


def portal_user(client):  # type: ignore[no-untyped-def]
    from careledger.portal.services import _portal_user

    return _portal_user(client)


def test_the_staff_order_page_places_takes_money_and_refunds(world, buyer, catalogue, login):
    http = login(world.manager)
    url = f"/clients/{buyer.id}/orders/"
    page = http.get(url)
    assert page.status_code == 200 and "新订单" in page.content.decode()
    day = next_open_day(catalogue.branch)
    response = http.post(
        url,
        {
            "op": "place",
            "version": str(catalogue.version.id),
            "branch": str(catalogue.branch.id),
            "day": day.isoformat(),
            "provider": "offline",
        },
    )
    order = Order.objects.get(client=buyer)
    assert response.status_code == 302 and str(order.id) in response["Location"]
    http.post(url, {"op": "pay", "order": str(order.id), "amount": "599.00", "method": "cash"})
    order.refresh_from_db()
    assert order.state == "booked"
    refused = http.post(
        url,
        {"op": "refund", "order": str(order.id), "amount": "600", "reason": "other"},
        follow=True,
    )
    assert "599.00" in refused.content.decode()  # "at most ¥599.00 can still be refunded"
    http.post(url, {"op": "refund", "order": str(order.id), "amount": "99", "reason": "other"})
    order.refresh_from_db()
    assert (order.state, order.refunded_fen) == ("partially_refunded", 9900)
    detail = http.get(f"{url}?order={order.id}").content.decode()
    assert "部分退款" in detail or "partially" in detail


def test_a_full_day_shows_bookings_message_on_the_page(world, buyer, catalogue, login):
    from careledger.booking import package_services as ps

    day = next_open_day(catalogue.branch)
    ps.do_set_capacity(
        actor=world.admin, branch_id=catalogue.branch.id,
        package_id=catalogue.version.package_id, start=day, end=day, limit=1,
    )  # fmt: skip
    other = Client.objects.get(pk=world.enrol().client_id)
    place(world, other, catalogue, day=day)
    http = login(world.manager)
    page = http.post(
        f"/clients/{buyer.id}/orders/",
        {"op": "place", "version": str(catalogue.version.id),
         "branch": str(catalogue.branch.id), "day": day.isoformat()},
        follow=True,
    )  # fmt: skip
    assert not Order.objects.filter(client=buyer).exists()
    from careledger.booking.errors import BookingRefused

    assert BookingRefused("full").message in page.content.decode()


def test_the_portal_client_orders_and_sees_only_their_own(world, buyer, catalogue, client):
    other = Client.objects.get(pk=world.enrol().client_id)
    theirs = place(world, other, catalogue)
    client.force_login(portal_user(buyer))
    assert client.get("/portal/orders/?new=1").status_code == 200
    day = next_open_day(catalogue.branch, after=5)
    client.post(
        "/portal/orders/",
        {"op": "place", "version": str(catalogue.version.id),
         "branch": str(catalogue.branch.id), "day": day.isoformat()},
    )  # fmt: skip
    mine = Order.objects.get(client=buyer)
    assert mine.channel == "portal"
    detail = client.get(f"/portal/orders/?order={mine.id}").content.decode()
    assert mine.number in detail and "前台" in detail  # pay at the front desk
    assert client.get(f"/portal/orders/?order={theirs.id}").status_code == 404
    client.post("/portal/orders/", {"op": "cancel", "order": str(theirs.id)})
    theirs.refresh_from_db()
    assert theirs.state == "awaiting_payment"
    client.post("/portal/orders/", {"op": "cancel", "order": str(mine.id)})
    mine.refresh_from_db()
    assert mine.state == "cancelled"


def test_the_portal_card_and_home_show_the_balances(world, buyer, gold_entitlements, client):
    client.force_login(portal_user(buyer))
    card = client.get("/portal/card/").content.decode()
    assert "年度体检" in card or "Annual check-up" in card
    home = client.get("/portal/").content.decode()
    assert 'id="entitlements"' in home and 'id="my-orders"' in home


def test_the_admin_edits_the_level_table_and_sees_no_client(world, login):
    http = login(world.admin)
    page = http.get("/config/membership/")
    assert page.status_code == 200
    response = http.post(
        "/config/membership/", {"q-gold-consultation": "4", "q-gold-follow_up": "x"}
    )
    assert response.status_code == 200  # redisplayed with the error
    http.post("/config/membership/", {"q-gold-consultation": "4"})
    assert 'value="4"' in http.get("/config/membership/").content.decode()
    assert login(world.manager).get("/config/membership/").status_code == 403


def test_the_api_speaks_integer_fen_and_refuses_floats(world, buyer, catalogue, login):
    http = login(world.manager)
    order = place(world, buyer, catalogue)
    base = f"/api/clients/{buyer.id}/orders"
    listed = http.get(base).json()
    assert listed[0]["total"] == "599.00" and listed[0]["state"] == "awaiting_payment"
    bad = http.post(
        f"{base}/payments", {"order_id": str(order.id), "amount_fen": 59900.0},
        content_type="application/json",
    )  # fmt: skip
    assert bad.status_code == 422
    ok = http.post(
        f"{base}/payments", {"order_id": str(order.id), "amount_fen": 59900},
        content_type="application/json",
    )  # fmt: skip
    assert ok.status_code == 201 and ok.json()["state"] == "booked"
    over = http.post(
        f"{base}/refunds",
        {"order_id": str(order.id), "amount_fen": 59901, "reason": "other"},
        content_type="application/json",
    )
    assert over.status_code == 422
    assert http.get(f"{base}/payments").json()[0]["amount"] == "599.00"
    membership = http.get(f"/api/clients/{buyer.id}/membership")
    assert membership.status_code == 200


def test_the_order_api_list_costs_a_fixed_number_of_queries(
    world, buyer, catalogue, login, django_assert_max_num_queries
):
    http = login(world.manager)
    place(world, buyer, catalogue)
    http.get(f"/api/clients/{buyer.id}/orders")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        http.get(f"/api/clients/{buyer.id}/orders")
    for n in range(4):
        place(world, buyer, catalogue, day=next_open_day(catalogue.branch, after=6 + 3 * n))
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(http.get(f"/api/clients/{buyer.id}/orders").json()) == 5
