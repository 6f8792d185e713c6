"""Orders through the real services on top of B1's booking: placing holds the slot, desk
payment, partial and full refunds (never beyond what was paid), cancellation, card
entitlements, family members, invoice details, and every state change in the ledger."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from careledger.access.enforce import AccessDenied
from careledger.booking.errors import BookingRefused
from careledger.booking.models import Appointment
from careledger.ledger.models import LedgerEntry
from careledger.membership import selectors as membership_selectors
from careledger.store import payments, selectors, services
from careledger.store.errors import OrderRefused
from careledger.store.models import InvoiceRequest, Order, OrderLine, Payment
from store.conftest import next_open_day, place

pytestmark = pytest.mark.django_db


def actions(order) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        LedgerEntry.objects.filter(leaf__contains=str(order.id))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_placing_an_order_holds_the_slot_and_prices_the_lines_in_fen(world, buyer, catalogue):
    order = place(world, buyer, catalogue, addon_ids=[catalogue.addon_id])
    assert order.state == "awaiting_payment"
    assert order.total_fen == 59900 + 20000 and order.paid_fen == 0
    assert [line.amount_fen for line in order.lines.order_by("position")] == [59900, 20000]
    assert Appointment.objects.get(pk=order.appointment_id).status == "booked"
    assert actions(order)[:2] == ["order.create", "order.submit"]


def test_desk_payment_must_be_the_exact_amount_and_books_the_order(world, buyer, catalogue):
    order = place(world, buyer, catalogue)
    with pytest.raises(OrderRefused, match="amount_mismatch"):
        payments.do_confirm_desk_payment(
            actor=world.manager, client_id=buyer.id, order_id=order.id, amount="599.01"
        )
    with pytest.raises(OrderRefused, match="not_integer_fen"):
        payments.do_confirm_desk_payment(
            actor=world.manager, client_id=buyer.id, order_id=order.id, amount=599.0
        )
    payments.do_confirm_desk_payment(
        actor=world.manager, client_id=buyer.id, order_id=order.id, amount="599.00"
    )
    order.refresh_from_db()
    assert (order.state, order.paid_fen) == ("booked", 59900)
    assert actions(order)[-2:] == ["order.pay", "order.book"]
    with pytest.raises(OrderRefused, match="not_payable"):
        payments.do_confirm_desk_payment(
            actor=world.manager, client_id=buyer.id, order_id=order.id, amount=59900
        )


def _paid(world, buyer, catalogue, **kw):  # type: ignore[no-untyped-def]
    order = place(world, buyer, catalogue, **kw)
    payments.do_confirm_desk_payment(
        actor=world.manager, client_id=buyer.id, order_id=order.id, amount=order.total_fen
    )
    order.refresh_from_db()
    return order


def test_partial_then_full_refunds_never_exceed_the_payment(world, buyer, catalogue):
    order = _paid(world, buyer, catalogue)
    refund = lambda amount: payments.do_refund(  # noqa: E731
        actor=world.manager,
        client_id=buyer.id,
        order_id=order.id,
        amount=amount,
        reason_code="client_request",
    )
    refund("100.00")
    order.refresh_from_db()
    assert (order.state, order.refunded_fen) == ("partially_refunded", 10000)
    with pytest.raises(OrderRefused) as caught:
        refund("499.01")
    assert caught.value.code == "exceeds_refundable" and "499.00" in caught.value.message
    with pytest.raises(OrderRefused, match="zero"):
        refund(0)
    refund("499.00")
    order.refresh_from_db()
    assert (order.state, order.refunded_fen) == ("refunded", 59900)
    # The full refund released the slot (still inside the cancellation window).
    assert Appointment.objects.get(pk=order.appointment_id).status == "cancelled"
    with pytest.raises(OrderRefused, match="not_refundable"):
        refund("0.01")


def test_the_database_itself_refuses_refunding_beyond_the_payment(world, buyer, catalogue):
    order = _paid(world, buyer, catalogue)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.id).update(refunded_fen=order.paid_fen + 1)
    line = OrderLine.objects.filter(order=order).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(amount_fen=line.unit_fen + 1)


def test_amount_columns_are_integers_in_the_database(world, buyer, catalogue):
    _paid(world, buyer, catalogue)
    with connection.cursor() as cursor:
        cursor.execute("SELECT total_fen, paid_fen, refunded_fen FROM store_order")
        row = cursor.fetchone()
    assert all(type(value) is int for value in row)
    field_types = {f.name: f.get_internal_type() for f in Order._meta.get_fields() if f.concrete}
    assert {field_types[n] for n in ("total_fen", "paid_fen", "refunded_fen")} == {
        "PositiveBigIntegerField"
    }


def test_the_last_slot_goes_to_one_client_and_the_other_gets_bookings_message(world, catalogue):
    from careledger.clients.models import Client
    from store.conftest import make_catalogue  # noqa: F401

    day = next_open_day(catalogue.branch)
    from careledger.booking import package_services as ps

    ps.do_set_capacity(
        actor=world.admin,
        branch_id=catalogue.branch.id,
        package_id=catalogue.version.package_id,
        start=day,
        end=day,
        limit=1,
    )
    first, second = (Client.objects.get(pk=world.enrol(sex="F").client_id) for _ in range(2))
    won = place(world, first, catalogue, day=day)
    with pytest.raises(BookingRefused) as caught:
        place(world, second, catalogue, day=day)
    assert caught.value.code == "full" and caught.value.message != "full"  # booking's words
    assert won.state == "awaiting_payment"
    assert not Order.objects.filter(client=second).exists()  # no order, nothing to pay
    assert LedgerEntry.objects.filter(
        client_id=str(second.id), action="order.create", outcome="failed"
    ).exists()


def test_no_desk_payment_is_taken_for_a_slot_no_longer_held(world, buyer, catalogue):
    from careledger.booking import services as booking

    order = place(world, buyer, catalogue)
    booking.do_cancel(actor=world.manager, appointment_id=order.appointment_id)
    with pytest.raises(OrderRefused, match="slot_not_held"):
        payments.do_confirm_desk_payment(
            actor=world.manager, client_id=buyer.id, order_id=order.id, amount=order.total_fen
        )
    assert not Payment.objects.filter(order=order).exists()


def test_cancelling_an_unpaid_order_releases_its_slot(world, buyer, catalogue):
    order = place(world, buyer, catalogue)
    services.do_cancel_order(actor=world.manager, client_id=buyer.id, order_id=order.id)
    order.refresh_from_db()
    assert order.state == "cancelled"
    assert Appointment.objects.get(pk=order.appointment_id).status == "cancelled"
    with pytest.raises(OrderRefused, match="not_cancellable"):
        services.do_cancel_order(actor=world.manager, client_id=buyer.id, order_id=order.id)


def test_a_card_entitlement_covers_the_package_and_comes_back_on_cancel(
    world, buyer, catalogue, gold_entitlements
):
    order = place(world, buyer, catalogue, use_entitlement=True)
    assert order.total_fen == 0 and order.state == "booked"  # nothing to pay
    left = lambda: {  # noqa: E731
        b.kind: b.left
        for b in membership_selectors.client_membership(world.manager, buyer.id).balances
    }
    assert left()["annual_checkup"] == 0
    with pytest.raises(OrderRefused, match="exhausted"):
        place(
            world,
            buyer,
            catalogue,
            use_entitlement=True,
            day=next_open_day(catalogue.branch, after=9),
        )
    services.do_cancel_order(actor=world.manager, client_id=buyer.id, order_id=order.id)
    assert left()["annual_checkup"] == 1  # given back with the cancelled order
    again = place(
        world, buyer, catalogue, use_entitlement=True, day=next_open_day(catalogue.branch, after=12)
    )
    assert again.total_fen == 0


def test_ordering_for_a_family_member_books_them_and_records_the_link(world, buyer, catalogue):
    from careledger.clients.models import Client

    mother = Client.objects.get(pk=world.enrol(sex="F").client_id)
    with pytest.raises(OrderRefused, match="bad_relation"):
        place(world, buyer, catalogue, beneficiary_id=mother.id, relation="boss")
    order = place(world, buyer, catalogue, beneficiary_id=mother.id, relation="parent")
    assert order.beneficiary_id == mother.id and order.relation == "parent"
    assert Appointment.objects.get(pk=order.appointment_id).client_id == mother.id
    # The mother's care team sees the order on her page too.
    assert [o.id for o in selectors.client_orders(world.manager, mother.id)] == [order.id]


def test_ordering_for_someone_outside_ones_care_teams_is_refused(world, buyer, catalogue):
    from careledger.clients.models import Client

    stranger = Client.objects.get(
        pk=world.enrol(actor=world.manager_b, team=world.team_b).client_id
    )
    with pytest.raises(AccessDenied):
        place(world, buyer, catalogue, beneficiary_id=stranger.id, relation="friend")


def test_invoice_details_are_validated_and_sealed(world, buyer, catalogue):
    order = place(world, buyer, catalogue)
    kw = dict(actor=world.manager, client_id=buyer.id, order_id=order.id)
    with pytest.raises(OrderRefused, match="not_invoiceable"):
        services.do_request_invoice(**kw, kind="personal", title="张三", email="a@example.com")
    payments.do_confirm_desk_payment(**kw, amount=order.total_fen)
    with pytest.raises(OrderRefused, match="bad_tax_number"):
        services.do_request_invoice(
            **kw, kind="company", title="杭州某某科技有限公司", tax_number="123", email="a@b.cn"
        )
    with pytest.raises(OrderRefused, match="bad_email"):
        services.do_request_invoice(**kw, kind="personal", title="张三", email="not-an-email")
    services.do_request_invoice(
        **kw,
        kind="company",
        title="杭州某某科技有限公司",
        tax_number="91110000600037341L",
        email="finance@example.com",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT title, tax_number, email FROM store_invoicerequest")
        raw = " ".join(cursor.fetchone())
    assert "杭州" not in raw and "91110000600037341L" not in raw and "finance@" not in raw
    assert InvoiceRequest.objects.get(order=order).title == "杭州某某科技有限公司"
    detail = selectors.order_detail(world.manager, buyer.id, order.id)
    assert detail.invoice.tax_number == "91110000600037341L"
    masked = selectors.order_detail(world.nurse, buyer.id, order.id)
    assert masked.invoice.tax_number == "****" and masked.invoice.title != "杭州某某科技有限公司"


@pytest.mark.parametrize(
    "who", ["doctor", "nurse", "admin", "auditor", "analyst", "manager_b", "outsider"]
)
def test_who_may_not_place_orders_is_refused_and_ledgered(world, buyer, catalogue, who):
    user = getattr(world, who)
    before = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
    with pytest.raises(AccessDenied):
        place(world, buyer, catalogue, actor=user)
    assert LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count() > before


@pytest.mark.parametrize(
    "who", ["doctor", "nurse", "admin", "auditor", "analyst", "manager_b", "outsider"]
)
def test_only_the_care_teams_health_manager_takes_or_returns_money(world, buyer, catalogue, who):
    order = place(world, buyer, catalogue)
    user = getattr(world, who)
    with pytest.raises(AccessDenied):
        payments.do_confirm_desk_payment(
            actor=user, client_id=buyer.id, order_id=order.id, amount=order.total_fen
        )
    payments.do_confirm_desk_payment(
        actor=world.manager, client_id=buyer.id, order_id=order.id, amount=order.total_fen
    )
    with pytest.raises(AccessDenied):
        payments.do_refund(
            actor=user, client_id=buyer.id, order_id=order.id, amount=1, reason_code="other"
        )


@pytest.mark.parametrize("who", ["admin", "auditor", "analyst", "manager_b", "outsider", "doctor"])
def test_who_may_not_read_orders_is_refused(world, buyer, catalogue, who):
    place(world, buyer, catalogue)
    with pytest.raises(AccessDenied):
        selectors.client_orders(getattr(world, who), buyer.id)


def test_the_order_list_costs_a_fixed_number_of_queries(
    world, buyer, catalogue, django_assert_max_num_queries
):
    for n in range(3):
        place(
            world,
            buyer,
            catalogue,
            addon_ids=[catalogue.addon_id],
            day=next_open_day(catalogue.branch, after=2 + 3 * n),
        )
    selectors.client_orders(world.manager, buyer.id)
    with django_assert_max_num_queries(12) as counted:
        selectors.client_orders(world.manager, buyer.id)
    few = len(counted.captured_queries)
    for n in range(3):
        place(world, buyer, catalogue, day=next_open_day(catalogue.branch, after=20 + 3 * n))
    with django_assert_max_num_queries(few):
        assert len(selectors.client_orders(world.manager, buyer.id)) == 6


def test_expired_orders_move_on_once(world, buyer, catalogue):
    import datetime as dt

    from django.utils import timezone

    order = place(world, buyer, catalogue)
    later = timezone.now() + dt.timedelta(days=120)
    assert payments.do_expire_due(now=later) == 1
    assert payments.do_expire_due(now=later) == 0
    order.refresh_from_db()
    assert order.state == "expired"


def test_the_expiry_task_is_scheduled_and_runs_the_service(world, buyer, catalogue, settings):
    from careledger.store.tasks import expire_orders

    assert settings.CELERY_BEAT_SCHEDULE["store-expire-orders"]["task"] == expire_orders.name
    place(world, buyer, catalogue, provider="offline")
    assert expire_orders() == 0  # nothing is due yet
