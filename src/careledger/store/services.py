"""Every write of an order that is not money: place it, cancel it, mark it completed, link a
family member, request an invoice. (Money in and out: `payments.py`.)

Placing an order holds the visit first: the booking (B1's `booking.services.do_book`, with its
rules, capacity locks and clear refusals) runs inside the order's transaction, so either the
slot is held and the order exists, or neither. A client racing another for the last place gets
booking's own `BookingRefused("full")` message and no order — no money is ever asked for a
slot that is not held. A card entitlement (one annual check-up) can cover the package: it is
redeemed with the order as its reference and given back if the order is cancelled or refunded.

Authorisation happens before the transaction opens (a refusal is ledgered in its own
transaction and the work never starts), as `access.enforce` requires.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from stdnum.cn import uscc

from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.booking import services as booking
from careledger.booking.errors import BookingRefused
from careledger.booking.models import (
    AppointmentStatus,
    CancelReason,
    PackageVersion,
    VersionStatus,
)
from careledger.clients.models import Client, Relation
from careledger.ledger import services as ledger
from careledger.membership import services as membership
from careledger.membership.entitlements import NotEntitled
from careledger.membership.models import EntitlementKind
from careledger.store import money, states
from careledger.store import providers as payment_providers
from careledger.store.errors import OrderRefused
from careledger.store.models import (
    FamilyLink,
    InvoiceKind,
    InvoiceRequest,
    LineKind,
    Order,
    OrderChannel,
    OrderLine,
)
from careledger.store.transitions import (
    PURPOSE,
    authorise,
    is_portal,
    ledger_actor,
    locked,
    move,
    order_of,
)

ONLINE_PAYMENT_MINUTES = 30
UNBOOKED_DAYS = 7
FULFILLED_VISITS = (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)


def new_number() -> str:
    """The out_trade_no: date and 12 random digits. Says nothing about the client."""
    return f"CL{timezone.localdate():%Y%m%d}{secrets.randbelow(10**12):012d}"


def _relative(actor: User, payer: Client, beneficiary_id: uuid.UUID | str | None, relation: str):
    """The beneficiary and relation: the payer themselves, a linked family member (portal), or
    another client the member of staff may also serve (staff; the link is then recorded)."""
    if beneficiary_id in (None, "") or str(beneficiary_id) == str(payer.id):
        return payer, ""
    beneficiary = Client.objects.filter(pk=beneficiary_id).first()
    if beneficiary is None or beneficiary.institution_id != payer.institution_id:
        raise OrderRefused("other_institution")
    link = FamilyLink.objects.filter(client=payer, relative=beneficiary).first()
    if is_portal(actor):
        if link is None:
            raise OrderRefused("not_family")
        return beneficiary, link.relation
    authorise(actor, Action.ORDER_MANAGE, beneficiary)
    if link is not None:
        return beneficiary, link.relation
    if relation not in Relation.values:
        raise OrderRefused("bad_relation")
    return beneficiary, relation


def _version(payer: Client, version_id: uuid.UUID | str) -> PackageVersion:
    version = (
        PackageVersion.objects.select_related("package")
        .filter(pk=version_id, institution_id=payer.institution_id)
        .first()
    )
    if (
        version is None
        or version.status != VersionStatus.PUBLISHED
        or version.package.retired_at is not None
    ):
        raise OrderRefused("package_not_bookable")
    return version


def _lines(order: Order, version: PackageVersion, addon_ids: set[str], covered: bool):
    lines = [
        OrderLine(
            order=order,
            position=0,
            kind=LineKind.PACKAGE,
            package_version=version,
            name=version.name,
            unit_fen=money.check_fen(version.price_fen),
            quantity=1,
            amount_fen=0 if covered else money.line_amount(version.price_fen, 1),
            covered_by_entitlement=covered,
        )
    ]
    addons = [i for i in version.items.all() if i.is_addon and str(i.id) in addon_ids]
    if len(addons) != len(addon_ids):
        raise OrderRefused("addon_not_in_package")
    for n, item in enumerate(sorted(addons, key=lambda i: (i.position, str(i.id))), start=1):
        lines.append(
            OrderLine(
                order=order,
                position=n,
                kind=LineKind.ADDON,
                package_version=version,
                item=item,
                name=item.name,
                unit_fen=item.addon_price_fen,
                quantity=1,
                amount_fen=money.line_amount(item.addon_price_fen, 1),
            )
        )
    return lines


def _expiry(provider: str, day: dt.date | None) -> dt.datetime:
    now = timezone.now()
    if provider != "offline":
        return now + dt.timedelta(minutes=ONLINE_PAYMENT_MINUTES)
    if day is not None:  # pay at the desk on the day, at the latest
        end = dt.datetime.combine(day, dt.time(23, 59, 59))
        return timezone.make_aware(end, timezone.get_current_timezone())
    return now + dt.timedelta(days=UNBOOKED_DAYS)


def _failed(actor: User, client_id: uuid.UUID | str, code: str) -> None:
    """A refused order is audited too (the reason code; nothing was written)."""
    with transaction.atomic():
        ledger.record(
            actor=ledger_actor(actor),
            action="order.create",
            outcome=ledger.Outcome.FAILED,
            purpose=PURPOSE,
            client_id=str(client_id),
            detail={"reason": code},
        )


def do_place_order(**kwargs) -> Order:  # type: ignore[no-untyped-def]
    """Place an order (see `_place`); a refusal by a store or booking rule is ledgered."""
    try:
        return _place(**kwargs)
    except (OrderRefused, BookingRefused) as exc:
        _failed(kwargs["actor"], kwargs["client_id"], exc.code)
        raise


def _place(
    *,
    actor: User,
    client_id: uuid.UUID | str,
    version_id: uuid.UUID | str,
    branch_id: uuid.UUID | str | None = None,
    day: dt.date | None = None,
    addon_ids: Iterable[uuid.UUID | str] = (),
    beneficiary_id: uuid.UUID | str | None = None,
    relation: str = "",
    provider: str = "offline",
    use_entitlement: bool = False,
    channel: str = OrderChannel.STAFF,
) -> Order:
    """Place an order (and hold its visit when a day is given). Raises `OrderRefused`,
    `BookingRefused` (the booking rules' own message) or `AccessDenied`."""
    payer = Client.objects.get(pk=client_id)
    authorise(actor, Action.ORDER_MANAGE, payer)
    beneficiary, relation = _relative(actor, payer, beneficiary_id, relation)
    if provider not in payment_providers.available():
        raise OrderRefused("provider_unavailable")
    version = _version(payer, version_id)
    wanted = {str(a) for a in addon_ids}
    book = day is not None and branch_id not in (None, "")
    portal_for_family = is_portal(actor) and beneficiary.id != payer.id
    if book and not portal_for_family:
        # The booking policy, before any transaction (a refusal is ledgered on its own).
        booking.authorise(actor, Action.BOOKING_MANAGE, beneficiary)
        booking.check_booking(
            client=beneficiary,
            version_id=version.id,
            branch_id=branch_id,
            day=day,
            addon_ids=wanted,
        )
    who = ledger_actor(actor)
    with transaction.atomic():
        order = Order(
            institution_id=payer.institution_id,
            number=new_number(),
            client=payer,
            beneficiary=beneficiary,
            relation=relation,
            channel=channel,
            provider=provider,
            total_fen=0,
            package_version=version,
            created_by=actor,
        )
        if book and not portal_for_family:
            order.appointment = booking.do_book(
                actor=actor,
                client_id=beneficiary.id,
                version_id=version.id,
                branch_id=branch_id,  # type: ignore[arg-type]
                day=day,  # type: ignore[arg-type]
                addon_ids=wanted,
                channel="portal" if is_portal(actor) else "staff",
            )
        if use_entitlement:
            try:
                use = membership.redeem_within(
                    client=beneficiary,
                    kind=EntitlementKind.ANNUAL_CHECKUP,
                    reference=f"order:{order.id}",
                    actor=who,
                    by=None if is_portal(actor) else actor,
                )
            except NotEntitled as exc:
                raise OrderRefused(exc.code) from exc
            order.entitlement_use = use.use_id
        lines = _lines(order, version, wanted, covered=use_entitlement)
        order.total_fen = money.check_fen(sum(line.amount_fen for line in lines))
        order.expires_at = _expiry(provider, day if book else None)
        order.save(force_insert=True)
        OrderLine.objects.bulk_create(lines)
        if beneficiary.id != payer.id and not is_portal(actor):
            FamilyLink.objects.get_or_create(
                client=payer,
                relative=beneficiary,
                defaults={
                    "institution_id": payer.institution_id,
                    "relation": relation,
                    "linked_by": actor,
                },
            )
        ledger.record(
            actor=who,
            action="order.create",
            purpose=PURPOSE,
            client_id=str(payer.id),
            resource_type="Order",
            resource_id=str(order.id),
            detail={
                "beneficiary": str(beneficiary.id),
                "version": str(version.id),
                "total_fen": order.total_fen,
                "lines": len(lines),
                "provider": provider,
                "appointment": str(order.appointment_id or ""),
                "entitlement": bool(use_entitlement),
            },
            sealed=[order, *lines],
        )
        move(order, states.Event.SUBMIT, actor=who)
        if order.total_fen == 0:  # wholly covered by the card: nothing to pay
            move(order, states.Event.PAY, actor=who, paid_fen=0)
            if order.appointment_id:
                move(order, states.Event.BOOK, actor=who)
    return order


def release_visit_and_entitlement(order: Order, *, actor: User | None, who: ledger.Actor) -> dict:
    """When an order is cancelled or fully refunded: give the card use back and cancel the
    visit if it is still only booked (a visit past the cancellation window is kept)."""
    detail: dict[str, object] = {}
    if order.entitlement_use:
        detail["entitlement_returned"] = membership.reverse_within(
            client=order.beneficiary, reference=f"order:{order.id}", actor=who
        )
    appointment = order.appointment
    if appointment is not None and appointment.status in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.WAITLISTED,
    ):
        if actor is None:
            detail["appointment"] = "kept_no_actor"
        else:
            try:
                with transaction.atomic():
                    booking.do_cancel(
                        actor=actor, appointment_id=appointment.id, reason=CancelReason.CENTRE
                    )
                detail["appointment"] = "cancelled"
            except BookingRefused as exc:
                detail["appointment"] = f"kept_{exc.code}"
    return detail


def do_cancel_order(*, actor: User, client_id: uuid.UUID | str, order_id: uuid.UUID | str) -> Order:
    client = Client.objects.get(pk=client_id)
    authorise(actor, Action.ORDER_MANAGE, client)
    order = order_of(client, order_id)
    if order.appointment_id and not is_portal(actor):
        booking.authorise(actor, Action.BOOKING_MANAGE, order.beneficiary)
    who = ledger_actor(actor)
    with transaction.atomic():
        order = locked(order.id)
        free = order.paid_fen == 0 and order.state in states.CANCELLABLE_WHEN_FREE
        if order.state not in states.CANCELLABLE and not free:
            raise OrderRefused("not_cancellable")
        detail = release_visit_and_entitlement(order, actor=actor, who=who)
        move(order, states.Event.CANCEL, actor=who, **detail)
    return order


def do_fulfil(*, actor: User, client_id: uuid.UUID | str, order_id: uuid.UUID | str) -> Order:
    """The visit happened (checked in or completed), or an order without a visit was served."""
    client = Client.objects.get(pk=client_id)
    if is_portal(actor):
        raise OrderRefused("not_fulfillable")
    authorise(actor, Action.ORDER_MANAGE, client)
    order = order_of(client, order_id)
    with transaction.atomic():
        order = locked(order.id)
        visit = order.appointment
        if visit is not None and visit.status not in FULFILLED_VISITS:
            raise OrderRefused("not_fulfillable")
        try:
            move(order, states.Event.FULFIL, actor=ledger_actor(actor))
        except states.IllegalTransition as exc:
            raise OrderRefused("not_fulfillable") from exc
    return order


def do_link_family(
    *, actor: User, client_id: uuid.UUID | str, relative_id: uuid.UUID | str, relation: str
) -> FamilyLink:
    """Staff record that `relative` is the client's family member (both in their care)."""
    client = Client.objects.get(pk=client_id)
    authorise(actor, Action.ORDER_MANAGE, client)
    if is_portal(actor):
        raise OrderRefused("not_family")
    relative = Client.objects.filter(pk=relative_id).first()
    if relative is None or relative.institution_id != client.institution_id:
        raise OrderRefused("other_institution")
    if relative.id == client.id:
        raise OrderRefused("same_person")
    authorise(actor, Action.ORDER_MANAGE, relative)
    if relation not in Relation.values:
        raise OrderRefused("bad_relation")
    with transaction.atomic():
        link, _created = FamilyLink.objects.update_or_create(
            client=client,
            relative=relative,
            defaults={
                "institution_id": client.institution_id,
                "relation": relation,
                "linked_by": actor,
            },
        )
        ledger.record(
            actor=ledger_actor(actor),
            action="order.family.link",
            purpose=PURPOSE,
            client_id=str(client.id),
            resource_type="FamilyLink",
            resource_id=str(link.id),
            detail={"relative": str(relative.id), "relation": relation},
            sealed=[link],
        )
    return link


def check_invoice(*, kind: str, title: str, tax_number: str, email: str) -> tuple[str, str, str]:
    title, tax_number, email = title.strip(), tax_number.strip().upper(), email.strip()
    if kind not in InvoiceKind.values:
        raise OrderRefused("bad_invoice_kind")
    if not 1 <= len(title) <= 100:
        raise OrderRefused("bad_invoice_title")
    if kind == InvoiceKind.COMPANY and not uscc.is_valid(tax_number):
        raise OrderRefused("bad_tax_number")
    if kind == InvoiceKind.PERSONAL and tax_number:
        raise OrderRefused("bad_tax_number")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise OrderRefused("bad_email") from exc
    return title, tax_number, email


def do_request_invoice(
    *,
    actor: User,
    client_id: uuid.UUID | str,
    order_id: uuid.UUID | str,
    kind: str,
    title: str,
    tax_number: str = "",
    email: str,
) -> InvoiceRequest:
    """发票 details for a paid order (the payer's; a second request replaces the first)."""
    client = Client.objects.get(pk=client_id)
    authorise(actor, Action.ORDER_MANAGE, client)
    title, tax_number, email = check_invoice(
        kind=kind, title=title, tax_number=tax_number, email=email
    )
    order = Order.objects.get(client=client, pk=order_id)
    with transaction.atomic():
        order = locked(order.id)
        if order.paid_fen - order.refunded_fen <= 0:
            raise OrderRefused("not_invoiceable")
        invoice = InvoiceRequest.objects.filter(order=order).first() or InvoiceRequest(
            institution_id=order.institution_id, client_id=order.client_id, order=order
        )
        invoice.kind = kind
        invoice.title = title
        invoice.tax_number = tax_number
        invoice.email = email
        invoice.requested_by = actor
        invoice.save()
        ledger.record(
            actor=ledger_actor(actor),
            action="order.invoice.request",
            purpose=PURPOSE,
            client_id=str(order.client_id),
            resource_type="InvoiceRequest",
            resource_id=str(invoice.id),
            detail={"order": str(order.id), "kind": kind},
            sealed=[invoice],
        )
    return invoice
