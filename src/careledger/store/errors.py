"""Why an order, a payment, a refund or an invoice request was refused: a stable code for
programs and tests, a message for people (Chinese first, through Django i18n). Booking rules
(full day, unsuitable package, closed day…) keep B1's own `BookingRefused` and its message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "provider_unavailable": _("That way of paying is not available at this centre."),
    "not_payable": _("This order is not waiting for payment."),
    "amount_mismatch": _("The amount must be exactly what is still owed (%(owed)s yuan)."),
    "slot_not_held": _(
        "The appointment of this order is no longer held, so no payment can be taken for it. "
        "Please book again."
    ),
    "not_refundable": _("Nothing can be refunded on this order."),
    "exceeds_refundable": _("At most %(left)s yuan can still be refunded on this order."),
    "zero": _("Enter an amount greater than zero."),
    "negative": _("Amounts cannot be negative."),
    "not_a_yuan_amount": _("Enter an amount in yuan with at most two decimals, e.g. 128.50."),
    "not_integer_fen": _("Amounts are whole fen (分)."),
    "too_large": _("That amount is too large."),
    "not_cancellable": _("This order can no longer be cancelled; ask for a refund instead."),
    "not_fulfillable": _("This order cannot be marked completed yet."),
    "unknown_reason": _("Choose a reason for the refund."),
    "not_family": _("That person is not registered as your family member."),
    "other_institution": _("That person is not a client of this centre."),
    "bad_relation": _("Choose how the two clients are related."),
    "same_person": _("A client cannot be their own family member."),
    "package_not_bookable": _("This package is not on offer at the moment."),
    "addon_not_in_package": _("An add-on chosen is not part of this package."),
    "bad_invoice_kind": _("Choose a personal or a company invoice."),
    "bad_invoice_title": _("Enter the invoice title (1 to 100 characters)."),
    "bad_tax_number": _("The unified social credit code (统一社会信用代码) is not valid."),
    "bad_email": _("Enter a valid e-mail address for the invoice."),
    "not_invoiceable": _("An invoice can be requested once the order has been paid."),
    "not_entitled": _("The membership card does not include this."),
    "exhausted": _("All uses of this entitlement for the current card year have been taken."),
    "no_active_card": _("The client has no active membership card."),
    "card_expired": _("The membership card has expired."),
    "already_redeemed": _("This entitlement was already used for this order."),
}


class OrderRefused(Exception):
    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        template = MESSAGES.get(self.code)
        if template is None:
            return self.code
        try:
            return str(template) % self.params
        except (KeyError, TypeError):
            return str(template)
