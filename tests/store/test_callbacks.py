"""Provider callbacks through the real service and the real HTTP route: a signed WeChat Pay or
Alipay notification pays the order once; the same notification again changes nothing; a
tampered one is refused, answered so the provider retries, and ledgered; money arriving for an
order that lost its slot is refunded at once, never kept."""

from __future__ import annotations

import pytest

from careledger.ledger.models import LedgerEntry
from careledger.store import payments
from careledger.store.models import Order, Payment, Refund
from store.conftest import place

pytestmark = pytest.mark.django_db


def online(world, buyer, catalogue, provider):  # type: ignore[no-untyped-def]
    return place(world, buyer, catalogue, provider=provider)


def deliver(provider, headers, body):  # type: ignore[no-untyped-def]
    return payments.do_handle_callback(provider_name=provider, headers=headers, body=body)


def test_a_signed_wechat_callback_pays_and_books_the_order_once(
    world, buyer, catalogue, payments, wechat
):
    order = online(world, buyer, catalogue, "wechat")
    headers, body = wechat.notification(order_number=order.number, total_fen=order.total_fen)
    first = deliver("wechat", headers, body)
    assert (first.accepted, first.outcome) == (True, "paid")
    assert first.response[0] == 200
    order.refresh_from_db()
    assert (order.state, order.paid_fen) == ("booked", 59900)
    version = order.version
    again = deliver("wechat", headers, body)
    assert (again.accepted, again.outcome) == (True, "duplicate")
    order.refresh_from_db()
    assert (order.version, order.paid_fen) == (version, 59900)
    assert Payment.objects.filter(order=order).count() == 1
    last = LedgerEntry.objects.filter(action="payment.callback").order_by("seq").last()
    assert (
        "duplicate" in bytes(last.leaf).decode()
        if not isinstance(last.leaf, str)
        else ("duplicate" in last.leaf)
    )


def test_a_tampered_callback_is_refused_ledgered_and_changes_nothing(
    world, buyer, catalogue, payments, wechat
):
    order = online(world, buyer, catalogue, "wechat")
    headers, body = wechat.notification(order_number=order.number, total_fen=order.total_fen)
    tampered = body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCESX")
    result = deliver("wechat", headers, tampered)
    assert (result.accepted, result.outcome, result.response[0]) == (False, "bad_signature", 400)
    order.refresh_from_db()
    assert order.state == "awaiting_payment" and not Payment.objects.exists()
    refused = LedgerEntry.objects.filter(action="payment.callback", outcome="denied").get()
    assert refused.actor_id == "provider:wechat"
    assert "bad_signature" in str(refused.leaf)


def test_an_amount_that_is_not_what_is_owed_is_refused(world, buyer, catalogue, payments, alipay):
    order = online(world, buyer, catalogue, "alipay")
    body = alipay.notification(order_number=order.number, total="0.01")
    result = deliver("alipay", {}, body)
    assert (result.accepted, result.outcome) == (False, "amount_mismatch")
    assert result.response == (200, "text/plain", b"failure")
    order.refresh_from_db()
    assert order.paid_fen == 0


def test_alipay_pays_in_yuan_text_parsed_to_fen(world, buyer, catalogue, payments, alipay):
    order = online(world, buyer, catalogue, "alipay")
    body = alipay.notification(order_number=order.number, total="599.00")
    result = deliver("alipay", {}, body)
    assert result.response == (200, "text/plain", b"success")
    order.refresh_from_db()
    assert (order.state, order.paid_fen) == ("booked", 59900)


def test_money_for_an_order_whose_slot_was_lost_is_refunded_at_once(
    world, buyer, catalogue, payments, wechat
):
    from careledger.booking import services as booking

    order = online(world, buyer, catalogue, "wechat")
    booking.do_cancel(actor=world.manager, appointment_id=order.appointment_id)
    headers, body = wechat.notification(order_number=order.number, total_fen=order.total_fen)
    result = deliver("wechat", headers, body)
    assert (result.accepted, result.outcome) == (True, "late_refunded")
    order.refresh_from_db()
    assert (order.state, order.paid_fen, order.refunded_fen) == ("refunded", 59900, 59900)
    refund = Refund.objects.get(order=order)
    assert (refund.amount_fen, refund.reason_code, refund.status) == (
        59900,
        "slot_not_held",
        "pending",
    )


def test_a_callback_for_an_unknown_order_or_disabled_provider_is_refused(
    world, payments, wechat, settings
):
    headers, body = wechat.notification(order_number="CL-NOPE", total_fen=100)
    assert deliver("wechat", headers, body).outcome == "unknown_order"
    settings.CARELEDGER_PAYMENTS = {"offline": {}}
    assert deliver("wechat", headers, body).outcome == "provider_not_enabled"
    assert LedgerEntry.objects.filter(action="payment.callback", outcome="denied").count() == 2


def test_the_http_route_answers_the_provider_and_needs_no_session(
    client, world, buyer, catalogue, payments, wechat
):
    order = online(world, buyer, catalogue, "wechat")
    headers, body = wechat.notification(order_number=order.number, total_fen=order.total_fen)
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    response = client.post(
        "/api/payments/wechat/notify", data=body, content_type="application/json", **meta
    )
    assert response.status_code == 200
    assert Order.objects.get(pk=order.id).state == "booked"
    forged = client.post(
        "/api/payments/wechat/notify",
        data=body.replace(b"SUCCESS", b"FAILED!"),
        content_type="application/json",
        **meta,
    )
    assert forged.status_code == 400
