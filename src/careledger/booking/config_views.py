"""Admin pages (mounted under /config/packages/): packages and their versions, branches and
scarce resources, the centre's calendar and capacity. Configuration only: the admin sees
counts of places taken, never who booked (separation of duties). Every page asks the policy
(`package.manage`) through the services; thin otherwise.

Items of a draft are edited as lines, one item per line, fields separated by `|`:
`name | LOINC code | resource code`, an add-on starts with `+` and ends with its price in yuan:
`+ 无痛胃镜 | | gastroscopy | 800`. A line with a LOINC code is a laboratory item (checked
against the indicator catalogue), any other an examination.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.booking import calendar, selectors
from careledger.booking import package_services as ps
from careledger.booking.errors import BookingRefused
from careledger.booking.forms import parse_day, parse_int, parse_uuid, yuan_to_fen
from careledger.booking.models import (
    Branch,
    ItemKind,
    Package,
    PackageItem,
    PackageVersion,
    Resource,
)

TABLE_DAYS = 14


def parse_items(text: str, resources: dict[str, uuid.UUID]) -> list[ps.ItemSpec]:
    items = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        addon = line.startswith("+")
        parts = [p.strip() for p in line.lstrip("+").split("|")]
        parts += [""] * (4 - len(parts))
        name, code, resource_code, price = parts[:4]
        if resource_code and resource_code not in resources:
            raise BookingRefused("no_capacity")
        items.append(
            ps.ItemSpec(
                name=name,
                kind=ItemKind.INDICATOR if code else ItemKind.EXAMINATION,
                indicator_code=code,
                resource_id=resources.get(resource_code) if resource_code else None,
                is_addon=addon,
                addon_price_fen=yuan_to_fen(price) if addon and price else 0,
            )
        )
    return items


def items_text(items: list[PackageItem]) -> str:
    lines = []
    for i in items:
        resource = i.resource.code if i.resource else ""
        base = f"{i.name} | {i.indicator_code} | {resource}"
        if i.is_addon:
            fen = i.addon_price_fen
            lines.append(f"+ {base} | {fen // 100}.{fen % 100:02d}")
        else:
            lines.append(base)
    return "\n".join(lines)


def _spec(request: HttpRequest) -> ps.VersionSpec:
    post = request.POST
    return ps.VersionSpec(
        name=post.get("name", "").strip(),
        price_fen=yuan_to_fen(post.get("price")),
        description=post.get("description", "").strip(),
        sex=post.get("sex", "") if post.get("sex", "") in {"", "M", "F"} else "",
        min_age=parse_int(post.get("min_age")),
        max_age=parse_int(post.get("max_age")),
        lead_days=parse_int(post.get("lead_days"), default=1) or 0,
        horizon_days=parse_int(post.get("horizon_days"), default=60) or 60,
        cancel_hours=parse_int(post.get("cancel_hours"), default=24) or 0,
        preparation=post.get("preparation", "").strip(),
        branch_ids=[b for b in (parse_uuid(x) for x in post.getlist("branches")) if b],
    )


def _resources(institution_id: uuid.UUID) -> dict[str, uuid.UUID]:
    return dict(Resource.objects.filter(institution_id=institution_id).values_list("code", "id"))


@login_required
@require_http_methods(["GET", "POST"])
def package_list(request: HttpRequest) -> HttpResponse:
    institution_id = ps.check_can_manage(request.user)
    if request.method == "POST":
        try:
            version = ps.do_create_package(
                actor=request.user,
                code=request.POST.get("code", "").strip(),
                spec=_spec(request),
                items=parse_items(request.POST.get("items", ""), _resources(institution_id)),
            )
        except BookingRefused as exc:
            messages.error(request, exc.message)
            return redirect(reverse("booking_config:packages"))
        messages.success(request, _("Package created as a draft."))
        return redirect(reverse("booking_config:version", args=[version.id]))
    packages = (
        Package.objects.filter(institution_id=institution_id)
        .prefetch_related("versions")
        .order_by("code")
    )
    return render(
        request,
        "booking/config/packages.html",
        {"packages": packages, "branches": selectors.branches(institution_id)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def version_detail(request: HttpRequest, version_id: uuid.UUID) -> HttpResponse:
    institution_id = ps.check_can_manage(request.user)
    version = get_object_or_404(
        PackageVersion.objects.select_related("package"),
        pk=version_id,
        institution_id=institution_id,
    )
    here = reverse("booking_config:version", args=[version.id])
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "save":
                ps.do_update_draft(
                    actor=request.user,
                    version_id=version.id,
                    spec=_spec(request),
                    items=parse_items(request.POST.get("items", ""), _resources(institution_id)),
                )
                messages.success(request, _("Draft saved."))
            elif action == "publish":
                ps.do_publish(actor=request.user, version_id=version.id)
                messages.success(request, _("Published: this version can now be booked."))
            elif action == "new_version":
                draft = ps.do_new_version(actor=request.user, package_id=version.package_id)
                return redirect(reverse("booking_config:version", args=[draft.id]))
            elif action == "retire":
                ps.do_retire_package(actor=request.user, package_id=version.package_id)
                messages.success(request, _("Package retired: no new bookings."))
        except BookingRefused as exc:
            messages.error(request, exc.message)
        return redirect(here)
    items = list(version.items.select_related("resource").order_by("is_addon", "position"))
    return render(
        request,
        "booking/config/version.html",
        {
            "v": version,
            "items": items,
            "items_text": items_text(items),
            "branches": selectors.branches(institution_id),
            "chosen": set(version.branches.values_list("id", flat=True)),
            "others": version.package.versions.exclude(pk=version.pk).order_by("-number"),
            "resources": Resource.objects.filter(institution_id=institution_id),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def sites(request: HttpRequest) -> HttpResponse:
    """Branches and scarce resources."""
    institution_id = ps.check_can_manage(request.user)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "resource":
                ps.do_create_resource(
                    actor=request.user,
                    code=request.POST.get("code", "").strip(),
                    name=request.POST.get("name", "").strip(),
                )
            else:
                ps.do_create_branch(
                    actor=request.user,
                    code=request.POST.get("code", "").strip(),
                    name=request.POST.get("name", "").strip(),
                    address=request.POST.get("address", "").strip(),
                    open_weekdays=[int(d) for d in request.POST.getlist("weekdays") if d.isdigit()],
                )
            messages.success(request, _("Saved."))
        except BookingRefused as exc:
            messages.error(request, exc.message)
        return redirect(reverse("booking_config:sites"))
    return render(
        request,
        "booking/config/sites.html",
        {
            "branches": selectors.branches(institution_id),
            "resources": Resource.objects.filter(institution_id=institution_id),
            "weekdays": [
                (1, _("Mon")),
                (2, _("Tue")),
                (3, _("Wed")),
                (4, _("Thu")),
                (5, _("Fri")),
                (6, _("Sat")),
                (7, _("Sun")),
            ],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def capacity(request: HttpRequest) -> HttpResponse:
    institution_id = ps.check_can_manage(request.user)
    branches = list(Branch.objects.filter(institution_id=institution_id))
    chosen = request.POST.get("branch") or request.GET.get("branch")
    branch = next((b for b in branches if str(b.id) == chosen), branches[0] if branches else None)
    if request.method == "POST" and branch is not None:
        try:
            if request.POST.get("action") == "day":
                state = request.POST.get("state", "")
                ps.do_set_day(
                    actor=request.user,
                    day=parse_day(request.POST.get("day")),
                    is_open={"open": True, "closed": False}.get(state),
                    branch_id=branch.id if request.POST.get("scope") == "branch" else None,
                )
            else:
                target = request.POST.get("target", "")
                kind, _sep, target_id = target.partition(":")
                ps.do_set_capacity(
                    actor=request.user,
                    branch_id=branch.id,
                    start=parse_day(request.POST.get("start")),
                    end=parse_day(request.POST.get("end")),
                    limit=parse_int(request.POST.get("limit"), default=0) or 0,
                    package_id=parse_uuid(target_id) if kind == "package" else None,
                    resource_id=parse_uuid(target_id) if kind == "resource" else None,
                )
            messages.success(request, _("Saved."))
        except BookingRefused as exc:
            messages.error(request, exc.message)
        return redirect(f"{reverse('booking_config:capacity')}?branch={branch.id}")
    today = timezone.localdate()
    table: dict[dt.date, list[selectors.CapacityRow]] = {}
    days = []
    if branch is not None:
        for row in selectors.capacity_table(
            institution_id=institution_id, branch=branch, start=today, days=TABLE_DAYS
        ):
            table.setdefault(row.day, []).append(row)
        from careledger.booking.services import day_status

        days = [
            (d, day_status(branch, d), table.get(d, []))
            for d in calendar.days_between(today, today + dt.timedelta(days=TABLE_DAYS - 1))
        ]
    covered = calendar.covered_years()
    return render(
        request,
        "booking/config/capacity.html",
        {
            "branches": branches,
            "branch": branch,
            "days": days,
            "packages": Package.objects.filter(institution_id=institution_id, retired_at=None),
            "resources": Resource.objects.filter(institution_id=institution_id),
            "today": today,
            "covered_until": covered.stop - 1,
            "uncovered_soon": (today + dt.timedelta(days=90)).year >= covered.stop,
        },
    )
