"""Human words for ledger codes on a client's "who looked at my record" page.

The ledger speaks in codes (`client.view`, `care`, `denied`); a client reads 查看档案, 诊疗照护,
已拒绝. Actions added by other parts of the system later show a generic label with their code
until they are given words here, so nothing is ever hidden for want of a translation.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from careledger.accounts.models import Role

ACTIONS = {
    "client.view": _("Viewed your record"),
    "client.search": _("Found you in a search"),
    "client.list": _("Saw you in a client list"),
    "client.enrol": _("Enrolled you"),
    "client.update": _("Changed your record"),
    "client.history": _("Viewed the change history of your record"),
    "client.revision.view": _("Viewed an earlier version of your record"),
    "access.break_glass": _("Emergency access to your record"),
    "access.break_glass.end": _("Ended an emergency access to your record"),
    "access.break_glass.inspect": _("Reviewed an emergency access to your record"),
    "audit.search": _("Reviewed the audit trail"),
    "notify.send": _("Sent you a message"),
    "portal.code.request": _("Asked for a portal sign-in code"),
    "portal.login": _("Signed in to the portal"),
    "portal.logout": _("Signed out of the portal"),
    "portal.profile.view": _("Opened the portal home page"),
    "portal.access_log.view": _("Viewed this access log"),
    "portal.receipt.download": _("Downloaded a ledger receipt"),
    "portal.boundary": _("Tried to open a page outside the portal"),
    "portal.access": _("Opening the portal"),
    # Store and card entitlements (careledger.store, careledger.membership).
    "order.create": _("Placed an order for you"),
    "order.submit": _("Sent your order for payment"),
    "order.pay": _("Recorded your payment"),
    "order.book": _("Booked the visit of your order"),
    "order.fulfil": _("Completed your order"),
    "order.refund_part": _("Refunded part of your order"),
    "order.refund_all": _("Refunded your order"),
    "order.cancel": _("Cancelled your order"),
    "order.expire": _("Your unpaid order expired"),
    "order.list": _("Viewed your orders"),
    "order.view": _("Viewed one of your orders"),
    "order.invoice.request": _("Saved invoice details for your order"),
    "payment.start": _("Showed how to pay your order"),
    "payment.confirm": _("Recorded your payment"),
    "payment.callback": _("A payment provider reported on your order"),
    "membership.view": _("Viewed your card entitlements"),
    "membership.redeem": _("Used one of your card entitlements"),
    "membership.reverse": _("Gave back a card entitlement"),
    "portal.membership.view": _("Viewed your card entitlements"),
    # Sharing (careledger.sharing): a partner fetching what you shared, and your shares.
    "share.fetch": _("A partner institution fetched what you shared"),
    "share.view": _("Viewed your shares"),
    "share.grant.create": _("Created a share for you"),
    "share.grant.request": _("Asked to share your record"),
    "share.grant.confirm": _("Confirmed a share"),
    "share.grant.revoke": _("Revoked a share"),
    "portal.shares.view": _("Viewed your shares"),
    "fhir.read": _("Read your record through the FHIR interface"),
}

ROLES = {
    **{role.value: role.label for role in Role},
    "system": _("The system"),
    "anonymous": _("Someone not signed in"),
    "partner": _("Partner institution"),
    "payment_provider": _("Payment provider"),
}

PURPOSES = {
    "care": _("Care"),
    "enrolment": _("Enrolment"),
    "oversight": _("Oversight"),
    "audit": _("Audit"),
    "administration": _("Administration"),
    "registry_update": _("Updating your registration"),
    "portal_login": _("Portal sign-in"),
    "portal": _("Your own use of the portal"),
    "emergency": _("Emergency"),
    "share": _("Sharing you allowed"),
}

OUTCOMES = {
    "allowed": _("Access allowed"),
    "denied": _("Access refused"),
    "failed": _("Did not succeed"),
}

# Where a refusal means something else than "tried to do X and was stopped".
REFUSED_ACTIONS = {
    "portal.login": _("A wrong or expired sign-in code was entered"),
    "portal.code.request": _("A sign-in code was asked for but not sent"),
    "share.fetch": _("A partner institution tried to fetch your record and was refused"),
}


def action_label(code: str, outcome: str = "allowed") -> str:
    if outcome == "denied" and code in REFUSED_ACTIONS:
        return str(REFUSED_ACTIONS[code])
    return str(ACTIONS.get(code) or _("Other access (%(code)s)") % {"code": code})


def role_label(code: str) -> str:
    return str(ROLES.get(code, code or "—"))


def purpose_label(code: str) -> str:
    if not code:
        return "—"
    return str(PURPOSES.get(code, code))


def outcome_label(code: str) -> str:
    return str(OUTCOMES.get(code, code))
