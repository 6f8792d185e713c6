"""Money under concurrency, with real threads (each its own connection and transaction):
the same callback delivered many times at once pays once; concurrent refunds of one order
never add up past the payment; two clients ordering the last place — one order, one clear
"full" message, and no order (so nothing to pay) for the loser. Meaningful on PostgreSQL,
where the order's row lock serialises them; SQLite serialises writers by itself."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from careledger.booking.errors import BookingRefused
from careledger.clients.models import Client
from careledger.store import payments, services
from careledger.store.errors import OrderRefused
from careledger.store.models import Order, Payment, Refund
from conftest import World
from store.conftest import make_catalogue, next_open_day

pytestmark = pytest.mark.django_db(transaction=True)


def _needs_real_connections() -> None:
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and (name in ("", ":memory:") or "mode=memory" in name):
        pytest.skip("in-memory SQLite is one connection; the race needs real connections")


def race(calls):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call):  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            result = str(call() or "ok")
        except (BookingRefused, OrderRefused) as exc:
            result = exc.code
        except Exception as exc:  # a crash is an outcome the test must see
            result = f"crash: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _order(world, cat, client, **kw):  # type: ignore[no-untyped-def]
    return services.do_place_order(
        actor=world.manager,
        client_id=client.id,
        version_id=cat.version.id,
        branch_id=cat.branch.id,
        day=kw.pop("day", next_open_day(cat.branch)),
        **kw,
    )


def test_a_callback_delivered_eight_times_at_once_pays_once(settings, wechat):
    _needs_real_connections()
    settings.CARELEDGER_PAYMENTS = {"offline": {}, "wechat": wechat.config}
    world = World()
    cat = make_catalogue(world)
    buyer = Client.objects.get(pk=world.enrol().client_id)
    order = _order(world, cat, buyer, provider="wechat")
    headers, body = wechat.notification(order_number=order.number, total_fen=order.total_fen)
    outcomes = race(
        [
            lambda: (
                payments.do_handle_callback(
                    provider_name="wechat", headers=headers, body=body
                ).outcome
            )
            for _ in range(8)
        ]
    )
    assert sorted(outcomes) == ["duplicate"] * 7 + ["paid"], outcomes
    order.refresh_from_db()
    assert (order.state, order.paid_fen) == ("booked", order.total_fen)
    assert Payment.objects.filter(order=order).count() == 1


def test_concurrent_refunds_never_exceed_the_payment():
    _needs_real_connections()
    world = World()
    cat = make_catalogue(world)
    buyer = Client.objects.get(pk=world.enrol().client_id)
    order = _order(world, cat, buyer)
    kw = {"actor": world.manager, "client_id": buyer.id, "order_id": order.id}
    payments.do_confirm_desk_payment(**kw, amount=order.total_fen)  # 59900 fen
    outcomes = race(
        [lambda: payments.do_refund(**kw, amount=20000, reason_code="other") for _ in range(5)]
    )
    codes = sorted(o if o in {"exceeds_refundable", "not_refundable"} else "ok" for o in outcomes)
    assert codes == ["exceeds_refundable"] * 3 + ["ok"] * 2, outcomes
    order.refresh_from_db()
    assert order.refunded_fen == 40000 <= order.paid_fen
    assert sum(Refund.objects.filter(order=order).values_list("amount_fen", flat=True)) == 40000


def test_two_clients_ordering_the_last_place_one_order_one_clear_refusal():
    _needs_real_connections()
    world = World()
    cat = make_catalogue(world, limit=1)
    day = next_open_day(cat.branch)
    a, b = (Client.objects.get(pk=world.enrol().client_id) for _ in range(2))
    outcomes = race([lambda c=c: _order(world, cat, c, day=day).state for c in (a, b)])
    assert sorted(outcomes) == ["awaiting_payment", "full"], outcomes
    assert Order.objects.count() == 1  # the loser has no order, so nothing to pay
