"""Check-up packages (体检套餐), branch capacity and appointments (体检预约).

Packages are configuration: a `Package` is the stable identity a centre sells ("入职体检"), a
`PackageVersion` is what a client actually books and pays for. A version is edited only while it
is a draft; once published it is immutable (the service refuses edits and the row is sealed in
the ledger when published, so an edit behind the application's back is caught), and an
appointment or an order (the `store` app) points at the version, never at the package, so a
sold package keeps exactly what was sold even after the centre publishes a new version.

Capacity is one row per (branch, day, package) and per (branch, day, scarce resource such as
gastroscopy or CT). Booking locks the rows it needs with `select_for_update` in a fixed order
(by primary key) and increments `used`; the rows are the only place a limit is enforced, so two
clients racing for the last slot serialise on the same row and exactly one wins.

Appointments are client data keyed by the client's internal UUID and hold coded values only
(states, dates, codes): no free text and no identifier, so nothing here needs sealing (invariant
3); each write is ledgered and row-sealed by `careledger.booking.services`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careledger.clients.models import Client
from careledger.institutions.models import Institution, TimeStamped
from careledger.observations.models import Report


class Branch(TimeStamped):
    """A site of the institution where check-ups are done (分院 / 体检中心)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=16)
    name = models.CharField(max_length=100)
    address = models.CharField(max_length=200, blank=True, default="")  # the site's, public
    # ISO weekdays (1 = Monday … 7 = Sunday) the branch normally works.
    open_weekdays = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["institution", "code"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="branch_code_once")
        ]

    def __str__(self) -> str:
        return self.name


class Resource(TimeStamped):
    """A scarce examination with its own daily limit (胃镜 gastroscopy, CT, MRI…)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["institution", "code"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="resource_code_once")
        ]

    def __str__(self) -> str:
        return self.name


class Package(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["institution", "code"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="package_code_once")
        ]

    def __str__(self) -> str:
        return self.code


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class SexRule(models.TextChoices):
    ANY = "", _("Any sex")
    MALE = "M", _("Men only")
    FEMALE = "F", _("Women only")


class PackageVersion(TimeStamped):
    """What is booked and sold. Immutable once published (see the module docstring)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default="draft")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    price_fen = models.PositiveIntegerField()  # integer fen (分), never a float
    sex = models.CharField(max_length=1, choices=SexRule.choices, blank=True, default="")
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    # Booking window: at least `lead_days` ahead, at most `horizon_days` ahead.
    lead_days = models.PositiveSmallIntegerField(default=1)
    horizon_days = models.PositiveSmallIntegerField(default=60)
    # Cancelling or rescheduling is allowed until this many hours before the visit day starts.
    cancel_hours = models.PositiveSmallIntegerField(default=24)
    preparation = models.TextField(blank=True, default="")  # 检前须知 (fasting…), not personal
    branches = models.ManyToManyField(Branch, related_name="package_versions", blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["package", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["package", "number"], name="package_version_once"),
            models.UniqueConstraint(
                fields=["package"],
                condition=Q(status="published"),
                name="package_one_published_version",
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True)
                | Q(max_age__isnull=True)
                | Q(min_age__lte=models.F("max_age")),
                name="package_age_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class ItemKind(models.TextChoices):
    INDICATOR = "indicator", _("Laboratory indicator")
    EXAMINATION = "examination", _("Examination")


class PackageItem(models.Model):
    """One item of a version: a catalogue indicator (LOINC code from `observations.catalogue`)
    or a named examination (ultrasound, ECG…), optionally needing a scarce resource; an add-on
    (加项) is an item the client may choose at booking, for its own price."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(PackageVersion, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    indicator_code = models.CharField(max_length=16, blank=True, default="")
    name = models.CharField(max_length=100)
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    is_addon = models.BooleanField(default=False)
    addon_price_fen = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "is_addon", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="indicator") | ~Q(indicator_code=""),
                name="package_item_indicator_has_code",
            ),
            models.CheckConstraint(
                condition=Q(is_addon=True) | Q(addon_price_fen=0),
                name="package_item_price_only_on_addons",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DayOverride(TimeStamped):
    """The centre's own calendar over the public one: a day closed (staff training) or opened
    (a Saturday clinic, or a day of a year the holiday library does not cover yet). No branch:
    every branch of the institution."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, null=True, blank=True)
    day = models.DateField()
    is_open = models.BooleanField()

    class Meta:
        ordering = ["institution", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "branch", "day"], name="day_override_once"
            ),
            models.UniqueConstraint(
                fields=["institution", "day"],
                condition=Q(branch__isnull=True),
                name="day_override_once_institution",
            ),
        ]


class Capacity(models.Model):
    """The limit of one (branch, day) for one package or one scarce resource, and how much of
    it is taken. `used` only changes under `select_for_update` of this row."""

    id = models.BigAutoField(primary_key=True)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    package = models.ForeignKey(
        Package, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    limit = models.PositiveIntegerField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["branch", "day", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(package__isnull=True, resource__isnull=False)
                | Q(package__isnull=False, resource__isnull=True),
                name="capacity_package_or_resource",
            ),
            models.UniqueConstraint(
                fields=["branch", "day", "package"],
                condition=Q(package__isnull=False),
                name="capacity_once_per_package",
            ),
            models.UniqueConstraint(
                fields=["branch", "day", "resource"],
                condition=Q(resource__isnull=False),
                name="capacity_once_per_resource",
            ),
        ]
        indexes = [models.Index(fields=["institution", "day"], name="capacity_inst_day")]


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("Did not come")


# States that occupy capacity (a waiting-list entry holds none).
HOLDING = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
# States a client may have at most one of per day.
LIVE = (AppointmentStatus.BOOKED, AppointmentStatus.WAITLISTED, AppointmentStatus.CHECKED_IN)


class Channel(models.TextChoices):
    STAFF = "staff", _("By staff")
    PORTAL = "portal", _("In the portal")
    API = "api", _("Through the API")


class CancelReason(models.TextChoices):
    CLIENT = "client", _("At the client's request")
    CENTRE = "centre", _("By the centre")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    WAITLIST_EXPIRED = "waitlist_expired", _("Waiting list closed")


class Appointment(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(PackageVersion, on_delete=models.PROTECT, related_name="+")
    addons = models.ManyToManyField(PackageItem, related_name="+", blank=True)
    day = models.DateField()
    status = models.CharField(max_length=16, choices=AppointmentStatus.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    # Waiting-list order: when the entry joined (promotion is first come, first served).
    waitlisted_at = models.DateTimeField(null=True, blank=True)
    reschedules = models.PositiveSmallIntegerField(default=0)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(
        max_length=16, choices=CancelReason.choices, blank=True, default=""
    )
    no_show_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    # The exam report of this visit, set when it is imported (exams → observations.Report).
    report = models.ForeignKey(
        Report, on_delete=models.SET_NULL, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["-day", "-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "day"],
                condition=Q(status__in=["booked", "waitlisted", "checked_in"]),
                name="appointment_one_live_per_client_day",
            )
        ]
        indexes = [
            models.Index(fields=["client", "day"], name="appointment_client_day"),
            models.Index(fields=["institution", "day", "status"], name="appointment_inst_day"),
            models.Index(fields=["branch", "day", "status"], name="appointment_branch_day"),
        ]

    def __str__(self) -> str:  # ids only: this lands in logs and tracebacks
        return f"Appointment {self.id}"
