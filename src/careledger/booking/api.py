"""Booking routes of the JSON API — thin wrappers over the same services and selectors as the
pages, so the same policy and ledger apply.

`router`, mounted at /api/clients/{client_id}/bookings: the client's appointments (GET), a new
booking (POST) and a change to one of them (PATCH: cancel or reschedule, the appointment id in
the body), all on one path; `/offers` lists the packages that suit the client and, given a
version and a branch, the days with places left. `desk_router`, at /api/bookings/desk: today's
list for the asker's care teams (GET) and check-in by card number (POST). `config_router`, at
/api/config/packages: packages and versions (GET), create, publish, retire, capacity.

A refused booking answers 409 (full, already booked: the world changed) or 422 (input that can
never be right: a past day, a holiday, an unsuitable package), with a stable `code` and a
`detail` sentence for the person.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Body, Path, Query, Router, Schema

from careledger.booking import package_services as ps
from careledger.booking import selectors, services, visits
from careledger.booking.errors import BookingRefused
from careledger.booking.models import Appointment, Branch, Channel, PackageVersion

router = Router(tags=["booking"])
desk_router = Router(tags=["booking"])
config_router = Router(tags=["booking"])


class Refusal(Schema):
    code: str
    detail: str


class AppointmentRead(Schema):
    id: uuid.UUID
    day: dt.date
    status: str
    status_label: str
    package_name: str
    version_number: int
    price_fen: int
    total_fen: int
    addons: list[tuple[str, int]]
    branch_name: str
    preparation: str
    changeable: bool
    change_deadline: dt.datetime
    has_report: bool
    channel: str


class BookingCreate(Schema):
    version_id: uuid.UUID
    branch_id: uuid.UUID
    day: dt.date
    addon_ids: list[uuid.UUID] = []
    waitlist: bool = False


class BookingChange(Schema):
    appointment_id: uuid.UUID
    action: Literal["cancel", "reschedule"]
    day: dt.date | None = None


class ItemRead(Schema):
    id: uuid.UUID
    name: str
    kind: str
    indicator_code: str
    is_addon: bool
    addon_price_fen: int


class BranchRead(Schema):
    id: uuid.UUID
    code: str
    name: str


class VersionRead(Schema):
    id: uuid.UUID
    package_id: uuid.UUID
    code: str
    number: int
    status: str
    name: str
    price_fen: int
    sex: str
    min_age: int | None
    max_age: int | None
    lead_days: int
    horizon_days: int
    cancel_hours: int
    preparation: str
    items: list[ItemRead]
    branches: list[BranchRead]


class DayRead(Schema):
    day: dt.date
    bookable: bool
    reason: str
    left: int


class OffersRead(Schema):
    packages: list[VersionRead]
    days: list[DayRead]


class CheckIn(Schema):
    card_number: str
    branch_id: uuid.UUID


class DeskRead(Schema):
    appointment_id: uuid.UUID
    client_id: uuid.UUID
    name: str
    package_name: str
    status: str


def refusals(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except BookingRefused as exc:
            return 409 if exc.is_conflict else 422, {"code": exc.code, "detail": exc.message}
        except (Appointment.DoesNotExist, PackageVersion.DoesNotExist, Branch.DoesNotExist):
            raise Http404 from None

    return wrapper


def _appointment(v: selectors.AppointmentView) -> dict[str, Any]:
    data = {k: getattr(v, k) for k in AppointmentRead.model_fields if k != "total_fen"}
    return {**data, "total_fen": v.total_fen, "addons": list(v.addons)}


def _version(v: PackageVersion) -> dict[str, Any]:
    return {
        **{
            k: getattr(v, k)
            for k in VersionRead.model_fields
            if k not in {"items", "branches", "code"}
        },
        "code": v.package.code,
        "items": list(v.items.all()),
        "branches": list(v.branches.all()),
    }


@router.get("", response=list[AppointmentRead])
def client_bookings(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    return [
        _appointment(v) for v in selectors.client_bookings(actor=request.user, client_id=client_id)
    ]


@router.post("", response={201: AppointmentRead, 409: Refusal, 422: Refusal})
@refusals
def book(request: HttpRequest, client_id: Path[uuid.UUID], payload: Body[BookingCreate]):  # type: ignore[no-untyped-def]
    row = services.do_book(
        actor=request.user,
        client_id=client_id,
        version_id=payload.version_id,
        branch_id=payload.branch_id,
        day=payload.day,
        addon_ids=payload.addon_ids,
        waitlist=payload.waitlist,
        channel=Channel.API,
    )
    return 201, _appointment(selectors.view_of(row))


@router.patch("", response={200: AppointmentRead, 409: Refusal, 422: Refusal})
@refusals
def change(request: HttpRequest, client_id: Path[uuid.UUID], payload: Body[BookingChange]):  # type: ignore[no-untyped-def]
    if not Appointment.objects.filter(pk=payload.appointment_id, client_id=client_id).exists():
        raise Http404
    if payload.action == "cancel":
        services.do_cancel(actor=request.user, appointment_id=payload.appointment_id)
    else:
        if payload.day is None:
            raise BookingRefused("same_day")
        services.do_reschedule(
            actor=request.user, appointment_id=payload.appointment_id, day=payload.day
        )
    return 200, _appointment(
        selectors.appointment(actor=request.user, appointment_id=payload.appointment_id)
    )


@router.get("/offers", response=OffersRead)
@refusals
def offers(  # type: ignore[no-untyped-def]
    request: HttpRequest,
    client_id: Path[uuid.UUID],
    version_id: Query[uuid.UUID | None] = None,
    branch_id: Query[uuid.UUID | None] = None,
    start: Query[dt.date | None] = None,
    days: Query[int] = 14,
):
    """Packages on offer (with GET only) and, for a version and branch, days with places."""
    selectors.client_bookings(actor=request.user, client_id=client_id)  # authorised, ledgered
    versions = selectors.bookable_versions(request.user.institution_id)
    found: list[dict[str, Any]] = []
    if version_id is not None and branch_id is not None:
        version = next((v for v in versions if v.id == version_id), None)
        branch = (
            next((b for b in version.branches.all() if b.id == branch_id), None)
            if version
            else None
        )
        if version is None or branch is None:
            raise Http404
        for offer in selectors.offers(
            version=version,
            branch=branch,
            start=start or timezone.localdate(),
            days=max(1, min(days, 92)),
        ):
            found.append(
                {
                    "day": offer.day,
                    "bookable": offer.bookable,
                    "reason": offer.reason,
                    "left": offer.left,
                }
            )
    return {"packages": [_version(v) for v in versions], "days": found}


@desk_router.get("", response=list[DeskRead])
def desk(request: HttpRequest, branch_id: Query[uuid.UUID | None] = None):  # type: ignore[no-untyped-def]
    """Today's appointments at a branch for the clients of the asker's care teams."""
    selectors.check_desk(request.user)
    chosen = (
        branch_id
        or Branch.objects.filter(institution_id=request.user.institution_id, is_active=True)
        .values_list("id", flat=True)
        .first()
    )
    if chosen is None:
        return []
    rows = selectors.desk_day(actor=request.user, branch_id=chosen, day=timezone.localdate())
    return [r.__dict__ for r in rows]


@desk_router.post("", response={200: AppointmentRead, 409: Refusal, 422: Refusal})
@refusals
def check_in(request: HttpRequest, payload: Body[CheckIn]):  # type: ignore[no-untyped-def]
    row = visits.do_check_in(
        actor=request.user, card_number=payload.card_number, branch_id=payload.branch_id
    )
    return 200, _appointment(selectors.appointment(actor=request.user, appointment_id=row.id))


# --- configuration ------------------------------------------------------------------------------


class ItemWrite(Schema):
    name: str
    kind: Literal["indicator", "examination"] = "examination"
    indicator_code: str = ""
    resource_id: uuid.UUID | None = None
    is_addon: bool = False
    addon_price_fen: int = 0


class VersionWrite(Schema):
    name: str
    price_fen: int
    description: str = ""
    sex: Literal["", "M", "F"] = ""
    min_age: int | None = None
    max_age: int | None = None
    lead_days: int = 1
    horizon_days: int = 60
    cancel_hours: int = 24
    preparation: str = ""
    branch_ids: list[uuid.UUID] = []
    items: list[ItemWrite] = []


class PackageCreate(VersionWrite):
    code: str


class CapacityWrite(Schema):
    branch_id: uuid.UUID
    start: dt.date
    end: dt.date
    limit: int
    package_id: uuid.UUID | None = None
    resource_id: uuid.UUID | None = None


def _spec(payload: VersionWrite) -> tuple[ps.VersionSpec, list[ps.ItemSpec]]:
    fields = payload.model_dump(exclude={"items", "code"})
    return ps.VersionSpec(**fields), [ps.ItemSpec(**i.model_dump()) for i in payload.items]


@config_router.get("", response=list[VersionRead])
def list_versions(request: HttpRequest):  # type: ignore[no-untyped-def]
    ps.check_can_manage(request.user)
    rows = (
        PackageVersion.objects.filter(institution_id=request.user.institution_id)
        .select_related("package")
        .prefetch_related("items", "branches")
        .order_by("package__code", "-number")
    )
    return [_version(v) for v in rows]


@config_router.post("", response={201: VersionRead, 409: Refusal, 422: Refusal})
@refusals
def create_package(request: HttpRequest, payload: Body[PackageCreate]):  # type: ignore[no-untyped-def]
    spec, items = _spec(payload)
    version = ps.do_create_package(actor=request.user, code=payload.code, spec=spec, items=items)
    return 201, _version(version)


@config_router.put("/{version_id}", response={200: VersionRead, 409: Refusal, 422: Refusal})
@refusals
def update_draft(request: HttpRequest, version_id: Path[uuid.UUID], payload: Body[VersionWrite]):  # type: ignore[no-untyped-def]
    spec, items = _spec(payload)
    version = ps.do_update_draft(actor=request.user, version_id=version_id, spec=spec, items=items)
    return 200, _version(version)


@config_router.post(
    "/{version_id}/publish", response={200: VersionRead, 409: Refusal, 422: Refusal}
)
@refusals
def publish(request: HttpRequest, version_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    return 200, _version(ps.do_publish(actor=request.user, version_id=version_id))


@config_router.post("/capacity", response={200: dict[str, int], 409: Refusal, 422: Refusal})
@refusals
def set_capacity(request: HttpRequest, payload: Body[CapacityWrite]):  # type: ignore[no-untyped-def]
    days = ps.do_set_capacity(actor=request.user, **payload.model_dump())
    return 200, {"days": days}
