"""Store routes of the JSON API.

* `router` at /api/clients/{client_id}/orders: the client's orders (GET) and a new order (POST);
  `/payments` desk payments (GET lists, POST confirms one); `/refunds` (GET lists, POST issues
  one); `/cancel` (GET: what can be cancelled, POST cancels). Every path answers GET, so the
  route-enumeration test (invariant 1) reaches its authorisation. Order ids travel in the body.
* `payments_router` at /api/payments: `POST /{provider}/notify`, the providers' callbacks. No
  session and no token: the provider's signature is the credential (see `providers`), and the
  answer is the one each provider expects.

Amounts are integer fen in and out; a float in a request is refused (422) by the schema.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router, Schema
from ninja.errors import HttpError
from pydantic import StrictInt

from careledger.booking.errors import BookingRefused
from careledger.membership.entitlements import NotEntitled
from careledger.store import payments, selectors, services
from careledger.store.errors import OrderRefused
from careledger.store.models import OrderChannel

router = Router(tags=["store"])
payments_router = Router(tags=["store"])


class LineRead(Schema):
    name: str
    kind: str
    amount: str
    covered: bool


class OrderRead(Schema):
    id: uuid.UUID
    number: str
    state: str
    package: str
    total: str
    paid: str
    refunded: str
    provider: str
    for_self: bool
    relation: str
    beneficiary_id: uuid.UUID
    appointment_id: uuid.UUID | None = None
    visit_day: dt.date | None = None
    created_at: dt.datetime
    lines: list[LineRead]


class OrderCreate(Schema):
    version_id: uuid.UUID
    branch_id: uuid.UUID | None = None
    day: dt.date | None = None
    addon_ids: list[uuid.UUID] = []
    beneficiary_id: uuid.UUID | None = None
    relation: str = ""
    provider: str = "offline"
    use_entitlement: bool = False


class DeskPayment(Schema):
    order_id: uuid.UUID
    amount_fen: StrictInt
    method: str = "cash"


class RefundCreate(Schema):
    order_id: uuid.UUID
    amount_fen: StrictInt
    reason: str
    note: str = ""


class OrderRef(Schema):
    order_id: uuid.UUID


class MoneyRead(Schema):
    order_id: uuid.UUID
    provider: str
    amount: str
    at: dt.datetime


class Problem(Schema):
    detail: str
    code: str
    message: str


def _view(view: selectors.OrderView) -> dict:
    data = {k: getattr(view, k) for k in OrderRead.model_fields if k != "lines"}
    data["lines"] = [line.__dict__ for line in view.lines]
    return data


def _refused(exc: OrderRefused | BookingRefused | NotEntitled) -> HttpError:
    message = getattr(exc, "message", exc.code)
    status = 409 if getattr(exc, "is_conflict", False) else 422
    error = HttpError(status, str(message))
    error.code = exc.code  # type: ignore[attr-defined]
    return error


@router.get("", response=list[OrderRead])
def list_orders(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    return [_view(v) for v in selectors.client_orders(request.user, client_id)]  # type: ignore[arg-type]


@router.post("", response={201: OrderRead})
def place_order(request: HttpRequest, client_id: Path[uuid.UUID], data: OrderCreate):  # type: ignore[no-untyped-def]
    try:
        order = services.do_place_order(
            actor=request.user,
            client_id=client_id,
            version_id=data.version_id,
            branch_id=data.branch_id,
            day=data.day,
            addon_ids=data.addon_ids,
            beneficiary_id=data.beneficiary_id,
            relation=data.relation,
            provider=data.provider,
            use_entitlement=data.use_entitlement,
            channel=OrderChannel.API,
        )
    except (OrderRefused, BookingRefused) as exc:
        raise _refused(exc) from exc
    return 201, _view(selectors.order_detail(request.user, client_id, order.id))  # type: ignore[arg-type]


def _money(request: HttpRequest, client_id: Path[uuid.UUID], kind: str) -> list[dict]:
    rows = selectors.client_money(request.user, client_id, kind)  # type: ignore[arg-type]
    return [{"order_id": o, "provider": p, "amount": a, "at": at} for o, p, a, at in rows]


@router.get("/payments", response=list[MoneyRead])
def list_payments(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    return _money(request, client_id, "payments")


@router.post("/payments", response={201: OrderRead})
def confirm_payment(request: HttpRequest, client_id: Path[uuid.UUID], data: DeskPayment):  # type: ignore[no-untyped-def]
    try:
        payments.do_confirm_desk_payment(
            actor=request.user,  # type: ignore[arg-type]
            client_id=client_id,
            order_id=data.order_id,
            amount=data.amount_fen,
            method=data.method,
        )
    except OrderRefused as exc:
        raise _refused(exc) from exc
    return 201, _view(selectors.order_detail(request.user, client_id, data.order_id))  # type: ignore[arg-type]


@router.get("/refunds", response=list[MoneyRead])
def list_refunds(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    return _money(request, client_id, "refunds")


@router.post("/refunds", response={201: OrderRead})
def issue_refund(request: HttpRequest, client_id: Path[uuid.UUID], data: RefundCreate):  # type: ignore[no-untyped-def]
    try:
        payments.do_refund(
            actor=request.user,  # type: ignore[arg-type]
            client_id=client_id,
            order_id=data.order_id,
            amount=data.amount_fen,
            reason_code=data.reason,
            note=data.note,
        )
    except OrderRefused as exc:
        raise _refused(exc) from exc
    return 201, _view(selectors.order_detail(request.user, client_id, data.order_id))  # type: ignore[arg-type]


@router.get("/cancel", response=list[OrderRead])
def cancellable(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    views = selectors.client_orders(request.user, client_id)  # type: ignore[arg-type]
    return [_view(v) for v in views if v.cancellable]


@router.post("/cancel", response=OrderRead)
def cancel(request: HttpRequest, client_id: Path[uuid.UUID], data: OrderRef):  # type: ignore[no-untyped-def]
    try:
        services.do_cancel_order(actor=request.user, client_id=client_id, order_id=data.order_id)  # type: ignore[arg-type]
    except OrderRefused as exc:
        raise _refused(exc) from exc
    return _view(selectors.order_detail(request.user, client_id, data.order_id))  # type: ignore[arg-type]


@payments_router.post("/{provider}/notify", auth=None, include_in_schema=True)
def notify(request: HttpRequest, provider: str) -> HttpResponse:
    result = payments.do_handle_callback(
        provider_name=provider[:16], headers=request.headers, body=request.body
    )
    status, content_type, body = result.response
    return HttpResponse(body, status=status, content_type=content_type)
