"""Staff pages: a client's check-ups (`/clients/<id>/bookings/`: list, book, move, cancel) and
the front desk (`/bookings/desk/`: today's list for the user's care teams, check-in by card).

Thin: parse, call one service or selector, render. One route per page; the action and the
appointment are in the POST body, so every route answers GET (the route-enumeration test reaches
its authorisation with the client id alone).
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.access.roles import Action, permits
from careledger.booking import selectors, services, visits
from careledger.booking.errors import BookingRefused
from careledger.booking.forms import parse_day, parse_uuid, parse_uuids
from careledger.booking.models import Appointment, Branch, Channel
from careledger.clients import selectors as client_selectors
from careledger.clients.models import Client

OFFER_DAYS = 21


def booking_form_context(
    request: HttpRequest, institution_id: uuid.UUID, *, days: int = OFFER_DAYS
) -> dict:
    """The package → branch → day choice, from the query string (shared with the portal)."""
    versions = selectors.bookable_versions(institution_id)
    version = next((v for v in versions if str(v.id) == request.GET.get("version")), None)
    branch = None
    offers: list[selectors.DayOffer] = []
    if version is not None:
        branches = list(version.branches.all())
        branch = next((b for b in branches if str(b.id) == request.GET.get("branch")), None)
        if branch is None and len(branches) == 1:
            branch = branches[0]
        if branch is not None:
            offers = selectors.offers(
                version=version, branch=branch, start=timezone.localdate(), days=days
            )
    return {"versions": versions, "version": version, "branch": branch, "offers": offers}


def _post(request: HttpRequest, client_id: uuid.UUID, channel: str) -> str:
    """Run the posted action; the success message."""
    action = request.POST.get("action", "")
    if action == "book":
        row = services.do_book(
            actor=request.user,
            client_id=client_id,
            version_id=parse_uuid(request.POST.get("version")) or uuid.UUID(int=0),
            branch_id=parse_uuid(request.POST.get("branch")) or uuid.UUID(int=0),
            day=parse_day(request.POST.get("day")),
            addon_ids=parse_uuids(request.POST.getlist("addon")),
            waitlist=request.POST.get("waitlist") == "1",
            channel=channel,
        )
        if row.status == "waitlisted":
            return _("Added to the waiting list for %(day)s.") % {"day": row.day.isoformat()}
        return _("Booked for %(day)s.") % {"day": row.day.isoformat()}
    appointment_id = parse_uuid(request.POST.get("appointment"))
    if (
        appointment_id is None
        or not Appointment.objects.filter(pk=appointment_id, client_id=client_id).exists()
    ):
        raise Http404
    if action == "cancel":
        services.do_cancel(actor=request.user, appointment_id=appointment_id)
        return _("The appointment was cancelled.")
    if action == "reschedule":
        day = parse_day(request.POST.get("day"))
        row = services.do_reschedule(actor=request.user, appointment_id=appointment_id, day=day)
        return _("Moved to %(day)s.") % {"day": row.day.isoformat()}
    raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def client_bookings(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404
    here = reverse("booking:client", args=[client_id])
    if request.method == "POST":
        try:
            messages.success(request, _post(request, client_id, Channel.STAFF))
        except BookingRefused as exc:
            messages.error(request, exc.message)
        return redirect(here)
    bookings = selectors.client_bookings(actor=request.user, client_id=client_id)
    client = client_selectors.get_client(request.user, client_id)
    context = {
        "c": client,
        "bookings": bookings,
        "can_book": permits(request.user.role, Action.BOOKING_MANAGE),
        **booking_form_context(request, request.user.institution_id),
    }
    return render(request, "booking/client_bookings.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def desk(request: HttpRequest) -> HttpResponse:
    selectors.check_desk(request.user)
    branches = list(
        Branch.objects.filter(institution_id=request.user.institution_id, is_active=True)
    )
    chosen = request.POST.get("branch") or request.GET.get("branch")
    branch = next((b for b in branches if str(b.id) == chosen), branches[0] if branches else None)
    if request.method == "POST" and branch is not None:
        try:
            row = visits.do_check_in(
                actor=request.user,
                card_number=request.POST.get("card_number", ""),
                branch_id=branch.id,
            )
            messages.success(request, _("Checked in: %(package)s.") % {"package": row.version.name})
        except BookingRefused as exc:
            messages.error(request, exc.message)
        return redirect(f"{reverse('booking_desk:desk')}?branch={branch.id}")
    today = timezone.localdate()
    rows = (
        selectors.desk_day(actor=request.user, branch_id=branch.id, day=today)
        if branch is not None
        else []
    )
    return render(
        request,
        "booking/desk.html",
        {
            "branches": branches,
            "branch": branch,
            "rows": rows,
            "today": today,
            "can_check_in": permits(request.user.role, Action.BOOKING_CHECKIN),
        },
    )
