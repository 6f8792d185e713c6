"""The client's own orders in the portal (我的订单), under /portal/orders/: no route takes a
client id — every page acts on the signed-in account's client (as payer, or for orders a family
member placed for them). The client places an order (for themselves or a linked family member),
sees how to pay (at the desk, or the provider's QR code / link), cancels an unpaid order and
gives invoice details. Money is never moved by hand here."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.access.enforce import actor_of
from careledger.booking.errors import BookingRefused
from careledger.ledger import services as ledger
from careledger.membership import selectors as membership_selectors
from careledger.portal.views import portal_login_required
from careledger.store import catalogue, payments, selectors, services
from careledger.store.errors import OrderRefused
from careledger.store.models import InvoiceKind, Order
from careledger.store.providers import CallbackRejected, available
from careledger.store.views import _uuid, place_from_post


def not_yours(account: Any) -> None:
    """An order id that is not the client's: answered 404 and ledgered as a refusal."""
    with transaction.atomic():
        ledger.record(
            actor=actor_of(account.user),
            action="portal.order.view",
            outcome=ledger.Outcome.DENIED,
            purpose="portal",
            client_id=str(account.client_id),
            detail={"reason": "not_your_order"},
        )


def _post(request: HttpRequest, account: Any) -> Any:
    op = request.POST.get("op", "")
    if op == "place":
        order = place_from_post(request, account.client_id, "portal")
        messages.success(request, _("Your order %(n)s is placed.") % {"n": order.number})
        return order.id
    order_id = _uuid(request.POST.get("order"))
    if order_id is None:
        raise Http404
    kw = {"actor": request.user, "client_id": account.client_id, "order_id": order_id}
    if op == "cancel":
        services.do_cancel_order(**kw)
        messages.success(request, _("Your order is cancelled."))
    elif op == "invoice":
        services.do_request_invoice(
            **kw,
            kind=request.POST.get("kind", ""),
            title=request.POST.get("title", ""),
            tax_number=request.POST.get("tax_number", ""),
            email=request.POST.get("email", ""),
        )
        messages.success(request, _("Invoice details saved."))
    else:
        raise Http404
    return order_id


@require_http_methods(["GET", "POST"])
@portal_login_required
def my_orders(request: HttpRequest, account: Any) -> HttpResponse:
    target = reverse("portal:store:orders")
    if request.method == "POST":
        chosen = _uuid(request.POST.get("order"))
        try:
            chosen = _post(request, account)
        except (OrderRefused, BookingRefused) as exc:
            messages.error(request, exc.message)
            if request.POST.get("op") == "place":
                return redirect(f"{target}?new=1")
        except Order.DoesNotExist:
            not_yours(account)
            return render(request, "portal/not_found.html", status=404)
        return redirect(f"{target}?order={chosen}" if chosen else target)
    chosen = start = None
    wanted = _uuid(request.GET.get("order"))
    if wanted is not None:
        try:
            chosen = selectors.order_detail(request.user, account.client_id, wanted)  # type: ignore[arg-type]
        except Order.DoesNotExist:
            not_yours(account)
            return render(request, "portal/not_found.html", status=404)
        if chosen.payable:
            try:
                start = payments.start_payment(
                    actor=request.user,  # type: ignore[arg-type]
                    client_id=account.client_id,
                    order_id=chosen.id,
                )
            except (OrderRefused, CallbackRejected, OSError):
                start = None
    context: dict[str, Any] = {"chosen": chosen, "start": start}
    if request.GET.get("new") == "1":
        card = membership_selectors.my_membership(account)
        context.update(
            new=True,
            offers=catalogue.offers(account.client.institution_id),
            family=selectors.family_of(account.client),
            providers=available(),
            checkup_left=next((b.left for b in card.balances if b.kind == "annual_checkup"), 0),
        )
    elif chosen is None:
        context["orders"] = selectors.client_orders(request.user, account.client_id)  # type: ignore[arg-type]
    context["invoice_kinds"] = InvoiceKind.choices
    return render(request, "store/portal_orders.html", context)
