"""Shared data for the booking tests, built through the services: a branch working Monday to
Saturday, a gastroscopy resource, a published package with an indicator, an examination, a
scarce item and an add-on, and capacity over the coming weeks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from careledger.booking import package_services as ps
from careledger.booking.calendar import day_status
from careledger.booking.models import Branch, PackageVersion, Resource


@dataclass
class Catalogue:
    branch: Branch
    other_branch: Branch
    gastroscopy: Resource
    version: PackageVersion
    addon_id: object
    gastro_addon_id: object


def next_open_day(branch: Branch, *, after: int = 2) -> dt.date:
    """The first day at least `after` days ahead that the public calendar lets the branch open."""
    day = timezone.localdate() + dt.timedelta(days=after)
    while not day_status(day, open_weekdays=branch.open_weekdays).is_open:
        day += dt.timedelta(days=1)
    return day


def open_days(branch: Branch, count: int, *, after: int = 2) -> list[dt.date]:
    days: list[dt.date] = []
    day = timezone.localdate() + dt.timedelta(days=after)
    while len(days) < count:
        if day_status(day, open_weekdays=branch.open_weekdays).is_open:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def make_catalogue(  # type: ignore[no-untyped-def]
    world,
    *,
    limit: int = 5,
    gastro_limit: int = 2,
    sex: str = "",
    min_age: int | None = None,
    max_age: int | None = None,
) -> Catalogue:
    admin = world.admin
    branch = ps.do_create_branch(
        actor=admin, code="XH", name="西湖分院", open_weekdays=[1, 2, 3, 4, 5, 6]
    )
    other = ps.do_create_branch(
        actor=admin, code="BJ", name="滨江分院", open_weekdays=[1, 2, 3, 4, 5]
    )
    gastro = ps.do_create_resource(actor=admin, code="gastroscopy", name="胃镜")
    version = ps.do_create_package(
        actor=admin,
        code="basic",
        spec=ps.VersionSpec(
            name="基础体检套餐",
            price_fen=59900,
            sex=sex,
            min_age=min_age,
            max_age=max_age,
            lead_days=1,
            horizon_days=90,
            cancel_hours=24,
            preparation="检查前一晚10点后禁食。",
            branch_ids=[branch.id],
        ),
        items=[
            ps.ItemSpec(name="空腹血糖", kind="indicator", indicator_code="2345-7"),
            ps.ItemSpec(name="心电图", kind="examination"),
            ps.ItemSpec(
                name="肿瘤标志物", kind="examination", is_addon=True, addon_price_fen=200_00
            ),
            ps.ItemSpec(
                name="无痛胃镜",
                kind="examination",
                resource_id=gastro.id,
                is_addon=True,
                addon_price_fen=80000,
            ),
        ],
    )
    ps.do_publish(actor=admin, version_id=version.id)
    start = timezone.localdate()
    end = start + dt.timedelta(days=60)
    ps.do_set_capacity(
        actor=admin,
        branch_id=branch.id,
        package_id=version.package_id,
        start=start,
        end=end,
        limit=limit,
    )
    ps.do_set_capacity(
        actor=admin, branch_id=branch.id, resource_id=gastro.id, start=start, end=end,
        limit=gastro_limit,
    )  # fmt: skip
    version.refresh_from_db()
    addons = {i.name: i.id for i in version.items.filter(is_addon=True)}
    return Catalogue(branch, other, gastro, version, addons["肿瘤标志物"], addons["无痛胃镜"])


@pytest.fixture
def catalogue(world) -> Catalogue:  # type: ignore[no-untyped-def]
    return make_catalogue(world)
