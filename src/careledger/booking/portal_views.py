"""Portal pages of booking (included by careledger.portal.urls), phone-first: my check-ups,
book one (package → branch → day → add-ons), move or cancel one.

No route takes an id in its path; the appointment being changed comes in the query string or
the form and must belong to the signed-in client (services.authorise refuses anything else,
and the refusal is ledgered). Thin: parse, call one service or selector, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.booking import selectors, services
from careledger.booking.errors import BookingRefused
from careledger.booking.forms import parse_day, parse_uuid, parse_uuids
from careledger.booking.models import Appointment, Channel
from careledger.booking.views import booking_form_context
from careledger.portal.views import portal_login_required


def _list() -> str:
    return reverse("portal:booking:list")


def _owned(account: Any, text: str | None) -> Appointment | None:
    appointment_id = parse_uuid(text)
    if appointment_id is None:
        return None
    return Appointment.objects.filter(pk=appointment_id).first()


@portal_login_required
@require_http_methods(["GET", "POST"])
def my_bookings(request: HttpRequest, account: Any) -> HttpResponse:
    if request.method == "POST":
        row = _owned(account, request.POST.get("appointment"))
        if row is None:
            return redirect(_list())
        try:
            services.do_cancel(actor=request.user, appointment_id=row.id)
            messages.success(request, _("The appointment was cancelled."))
        except BookingRefused as exc:
            messages.error(request, exc.message)
        return redirect(_list())
    bookings = selectors.client_bookings(actor=request.user, client_id=account.client_id)
    return render(request, "booking/portal/list.html", {"bookings": bookings})


@portal_login_required
@require_http_methods(["GET", "POST"])
def new_booking(request: HttpRequest, account: Any) -> HttpResponse:
    if request.method == "POST":
        try:
            row = services.do_book(
                actor=request.user,
                client_id=account.client_id,
                version_id=request.POST.get("version", ""),
                branch_id=request.POST.get("branch", ""),
                day=parse_day(request.POST.get("day")),
                addon_ids=parse_uuids(request.POST.getlist("addon")),
                waitlist=request.POST.get("waitlist") == "1",
                channel=Channel.PORTAL,
            )
        except (BookingRefused, ValueError) as exc:
            message = exc.message if isinstance(exc, BookingRefused) else _("Please choose again.")
            messages.error(request, message)
            back = reverse("portal:booking:new")
            version, branch = request.POST.get("version", ""), request.POST.get("branch", "")
            return redirect(f"{back}?version={version}&branch={branch}")
        if row.status == "waitlisted":
            messages.success(
                request, _("You are on the waiting list; we will tell you if a place frees up.")
            )
        else:
            messages.success(request, _("Booked. The preparation instructions are below."))
        return redirect(_list())
    context = booking_form_context(request, account.client.institution_id, days=28)
    return render(request, "booking/portal/new.html", context)


@portal_login_required
@require_http_methods(["GET", "POST"])
def change_booking(request: HttpRequest, account: Any) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    row = _owned(account, source.get("id"))
    if row is None:
        return redirect(_list())
    if request.method == "POST":
        try:
            day = parse_day(request.POST.get("day"))
            services.do_reschedule(actor=request.user, appointment_id=row.id, day=day)
            messages.success(request, _("Your check-up was moved."))
            return redirect(_list())
        except BookingRefused as exc:
            messages.error(request, exc.message)
            return redirect(f"{reverse('portal:booking:change')}?id={row.id}")
    current = selectors.appointment(actor=request.user, appointment_id=row.id)
    versions = selectors.bookable_versions(account.client.institution_id)
    version = next((v for v in versions if v.id == row.version_id), None)
    offers = (
        selectors.offers(version=version, branch=row.branch, start=timezone.localdate(), days=28)
        if version is not None
        else []
    )
    return render(
        request, "booking/portal/change.html", {"b": current, "offers": offers, "row_id": row.id}
    )
