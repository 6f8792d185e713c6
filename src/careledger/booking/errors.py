"""Why a booking, a change or a configuration step was refused: a code for programs and tests,
a message for people (Chinese first, through Django i18n).

`BookingRefused` is raised by the services for every request that breaks a rule (bad input or a
full day); it is not an access refusal (those are `AccessDenied`, ledgered by the policy). The
API answers 409 for conflicts with the state of the world (full, already booked) and 422 for
input that can never be right.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "past_date": _("That day is in the past. Please choose a later day."),
    "inside_lead_time": _("This package must be booked at least %(lead)s day(s) ahead."),
    "beyond_horizon": _("Bookings open at most %(horizon)s days ahead."),
    "public_holiday": _("The centre is closed on public holidays (%(holiday)s)."),
    "override_closed": _("The centre is closed on that day."),
    "weekly_closed": _("This branch does not work on that day of the week."),
    "calendar_not_covered": _(
        "The public-holiday calendar for %(year)s is not available yet, so that day cannot be "
        "booked until the centre opens it."
    ),
    "unsuitable_sex": _("This package is not suitable for the client's sex."),
    "too_young": _("The client is younger than this package allows (from %(min)s years)."),
    "too_old": _("The client is older than this package allows (up to %(max)s years)."),
    "package_not_bookable": _("This package is not on offer at the moment."),
    "branch_not_offered": _("This package is not offered at that branch."),
    "addon_not_in_package": _("An add-on chosen is not part of this package."),
    "no_capacity": _("There are no places for this package at that branch on that day."),
    "full": _("Sorry, the last place on that day has just been taken. Please choose another day."),
    "resource_full": _("%(resource)s is fully booked on that day. Please choose another day."),
    "already_booked": _("The client already has a check-up booked on that day."),
    "after_cancel_window": _(
        "Changes are possible until %(hours)s hours before the visit day; please call the centre."
    ),
    "not_changeable": _("This appointment can no longer be changed."),
    "same_day": _("The appointment is already on that day."),
    "card_not_found": _("No active membership card has that number."),
    "no_appointment_today": _("There is no check-up booked for this card today at this branch."),
    "client_inactive": _("The client's record is not active."),
    "version_not_draft": _("A published version cannot be changed; create a new version."),
    "unknown_indicator": _("%(indicator)s is not in the indicator catalogue."),
    "indicator_needs_code": _("A laboratory item needs its indicator code."),
    "empty_package": _("A package needs at least one item before it is published."),
    "no_branches": _("Choose at least one branch before publishing."),
    "limit_below_booked": _(
        "%(day)s already has %(used)s booking(s); the limit cannot be lower than that."
    ),
    "bad_range": _("The first day must not be after the last, and at most 366 days apart."),
    "bad_age_range": _("The lowest age must not be above the highest."),
    "bad_price": _("Prices are whole fen (分), zero or more."),
    "duplicate_code": _("That code is already in use."),
}


class BookingRefused(Exception):
    """A booking rule was broken. `code` is stable; `message` is for the person who asked."""

    CONFLICTS = frozenset({"full", "resource_full", "already_booked", "no_capacity"})

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

    @property
    def is_conflict(self) -> bool:
        return self.code in self.CONFLICTS
