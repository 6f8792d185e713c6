"""Staff pages of the store (体检订单), mounted under /clients/<id>/orders/: thin — parse, call
one service or selector, render. The order list with the chosen order (`?order=<id>`, ids in
the query string so the route answers GET with only the client id), and one POST route whose
`op` names the service: place, pay (at the desk), refund, cancel, fulfil, invoice.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.access.roles import Action, permits
from careledger.booking.errors import BookingRefused
from careledger.clients import selectors as client_selectors
from careledger.clients.models import Client, Relation
from careledger.store import catalogue, payments, selectors, services
from careledger.store.errors import OrderRefused
from careledger.store.models import InvoiceKind, Order
from careledger.store.providers import available


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError):
        return None


def _day(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw or "")
    except ValueError:
        return None


def place_from_post(request: HttpRequest, client_id: uuid.UUID, channel: str) -> Order:
    post = request.POST
    return services.do_place_order(
        actor=request.user,
        client_id=client_id,
        version_id=_uuid(post.get("version")) or uuid.UUID(int=0),
        branch_id=_uuid(post.get("branch")),
        day=_day(post.get("day")),
        addon_ids=[a for a in (_uuid(x) for x in post.getlist("addons")) if a],
        beneficiary_id=_uuid(post.get("beneficiary")),
        relation=post.get("relation", ""),
        provider=post.get("provider", "offline"),
        use_entitlement=post.get("use_entitlement") == "1",
        channel=channel,
    )


def _post(request: HttpRequest, client_id: uuid.UUID) -> uuid.UUID | None:
    op = request.POST.get("op", "")
    order_id = _uuid(request.POST.get("order"))
    user = request.user
    if op == "place":
        order = place_from_post(request, client_id, "staff")
        messages.success(request, _("Order %(n)s placed.") % {"n": order.number})
        return order.id
    if order_id is None:
        raise Http404
    kw = {"actor": user, "client_id": client_id, "order_id": order_id}
    if op == "pay":
        payments.do_confirm_desk_payment(
            **kw, amount=request.POST.get("amount", ""), method=request.POST.get("method", "cash")
        )
        messages.success(request, _("Payment received."))
    elif op == "refund":
        payments.do_refund(
            **kw,
            amount=request.POST.get("amount", ""),
            reason_code=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("Refund issued."))
    elif op == "cancel":
        services.do_cancel_order(**kw)
        messages.success(request, _("Order cancelled."))
    elif op == "fulfil":
        services.do_fulfil(**kw)
        messages.success(request, _("Order marked completed."))
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


@login_required
@require_http_methods(["GET", "POST"])
def client_orders(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404
    if request.method == "POST":
        chosen = _uuid(request.POST.get("order"))
        try:
            chosen = _post(request, client_id)
        except (OrderRefused, BookingRefused) as exc:
            messages.error(request, exc.message)
        except Order.DoesNotExist:
            raise Http404 from None
        target = reverse("store:orders", args=[client_id])
        return redirect(f"{target}?order={chosen}" if chosen else target)
    orders = selectors.client_orders(request.user, client_id)  # type: ignore[arg-type]
    chosen = None
    wanted = _uuid(request.GET.get("order"))
    if wanted is not None:
        try:
            chosen = selectors.order_detail(request.user, client_id, wanted)  # type: ignore[arg-type]
        except Order.DoesNotExist:
            raise Http404 from None
    client = client_selectors.get_client(request.user, client_id)  # type: ignore[arg-type]
    role = request.user.role  # type: ignore[union-attr]
    payer = Client.objects.get(pk=client_id)
    return render(
        request,
        "store/client_orders.html",
        {
            "c": client,
            "orders": orders,
            "chosen": chosen,
            "offers": catalogue.offers(payer.institution_id),
            "family": selectors.family_of(payer),
            "relations": Relation.choices,
            "providers": available(),
            "invoice_kinds": InvoiceKind.choices,
            "desk_methods": payments.DESK_METHODS,
            "refund_reasons": payments.REFUND_REASONS,
            "can_manage": permits(role, Action.ORDER_MANAGE),
            "can_pay": permits(role, Action.PAYMENT_CONFIRM),
            "can_refund": permits(role, Action.REFUND_ISSUE),
        },
    )
