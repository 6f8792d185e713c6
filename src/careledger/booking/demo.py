"""Demo data for booking (called from `careledger.demo.seed`): two branches, two scarce items,
three published packages, capacity for the next 30 days, and future bookings for a dozen demo
clients — made through the real services (as the admin and a health manager), so the demo
exercises the same rules, locks and ledger as production. Idempotent: a second run adds nothing.

Days of a year the holiday library does not cover yet stay closed (see `calendar`); the demo
opens the working days of such a year inside its 30-day window by hand, as an admin would until
the library is upgraded, leaving 1 January closed.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from django.utils import timezone

from careledger.accounts.models import User
from careledger.booking import calendar, services
from careledger.booking import package_services as ps
from careledger.booking.errors import BookingRefused
from careledger.booking.models import Appointment, Branch, Package, Resource
from careledger.institutions.models import Institution

DAYS = 30
LAB = [
    ("血常规·血红蛋白", "718-7"),
    ("白细胞计数", "6690-2"),
    ("空腹血糖", "2345-7"),
    ("总胆固醇", "2093-3"),
    ("甘油三酯", "2571-8"),
    ("高密度脂蛋白胆固醇", "2085-9"),
    ("低密度脂蛋白胆固醇", "18262-6"),
    ("丙氨酸氨基转移酶", "1742-6"),
    ("肌酐", "2160-0"),
    ("尿酸", "3084-1"),
]
EXAMS = ["一般检查（身高、体重、血压）", "内科", "外科", "心电图", "腹部彩超", "胸部正侧位片"]
FASTING = "检查前一晚10点后禁食禁水，检查当日早晨空腹到院；请携带身份证与会员卡。"


def _items(lab: list[tuple[str, str]], exams: list[str], **extra: list[ps.ItemSpec]):  # type: ignore[no-untyped-def]
    items = [ps.ItemSpec(name=n, kind="indicator", indicator_code=c) for n, c in lab]
    items += [ps.ItemSpec(name=n) for n in exams]
    return items + extra.get("more", [])


def _packages(admin: User, branches: list[Branch], resources: dict[str, Resource]) -> None:
    both = [b.id for b in branches]
    gastro, ct = resources["gastroscopy"].id, resources["ldct"].id
    addons = [
        ps.ItemSpec(name="无痛胃镜", resource_id=gastro, is_addon=True, addon_price_fen=88000),
        ps.ItemSpec(name="肿瘤标志物（6项）", is_addon=True, addon_price_fen=36000),
    ]
    specs = [
        (
            "basic",
            ps.VersionSpec(
                name="基础体检套餐",
                price_fen=59900,
                preparation=FASTING,
                description="适合18岁以上成人的年度基础体检。",
                min_age=18,
                branch_ids=both,
            ),
            _items(LAB[:7], EXAMS[:4], more=addons),
        ),
        (
            "senior",
            ps.VersionSpec(
                name="中老年深度体检",
                price_fen=168800,
                preparation=FASTING,
                description="含低剂量螺旋CT肺癌筛查与颈动脉超声。",
                min_age=45,
                lead_days=2,
                branch_ids=both,
            ),
            _items(
                LAB,
                [*EXAMS, "颈动脉超声"],
                more=[ps.ItemSpec(name="低剂量螺旋CT", resource_id=ct), *addons],
            ),
        ),
        (
            "women",
            ps.VersionSpec(
                name="女性专项体检",
                price_fen=128800,
                sex="F",
                min_age=20,
                preparation=FASTING + "月经期请勿预约妇科检查。",
                branch_ids=[branches[0].id],
            ),
            _items(LAB[:7], [*EXAMS[:5], "乳腺彩超", "妇科检查"], more=addons[1:]),
        ),
    ]
    for code, spec, items in specs:
        version = ps.do_create_package(actor=admin, code=code, spec=spec, items=items)
        ps.do_publish(actor=admin, version_id=version.id)


def _capacity(admin: User, institution: Institution) -> None:
    today = timezone.localdate()
    end = today + dt.timedelta(days=DAYS)
    for day in calendar.days_between(today, end):
        if (
            not calendar.is_covered(day)
            and day.isoweekday() <= 6
            and (day.month, day.day) != (1, 1)
        ):
            with contextlib.suppress(BookingRefused):
                ps.do_set_day(actor=admin, day=day, is_open=True)
    limits = {"basic": 20, "senior": 8, "women": 10}
    for branch in Branch.objects.filter(institution=institution):
        for package in Package.objects.filter(institution=institution):
            ps.do_set_capacity(
                actor=admin,
                branch_id=branch.id,
                package_id=package.id,
                start=today,
                end=end,
                limit=limits.get(package.code, 10),
            )
        for resource, limit in (
            (r, 4 if r.code == "gastroscopy" else 6)
            for r in Resource.objects.filter(institution=institution)
        ):
            ps.do_set_capacity(
                actor=admin,
                branch_id=branch.id,
                resource_id=resource.id,
                start=today,
                end=end,
                limit=limit,
            )


def _bookings(manager: User, institution: Institution, team_id) -> int:  # type: ignore[no-untyped-def]
    from careledger.booking import selectors

    versions = {v.package.code: v for v in selectors.bookable_versions(institution.id)}
    clients = list(
        institution.clients.filter(care_team_links__care_team_id=team_id).order_by(
            "created_at", "id"
        )[:12]
    )
    today = timezone.localdate()
    made = 0
    for n, client in enumerate(clients):
        age = (today - client.birth_date).days // 365
        code = "women" if client.sex == "F" and n % 3 == 0 else "senior" if age >= 45 else "basic"
        version = versions[code]
        branch = list(version.branches.all())[n % version.branches.count()]
        addons = [i.id for i in version.items.all() if i.is_addon][: n % 2]
        for offset in range(3 + n, 3 + n + 10):
            day = today + dt.timedelta(days=offset)
            try:
                services.do_book(
                    actor=manager,
                    client_id=client.id,
                    version_id=version.id,
                    branch_id=branch.id,
                    day=day,
                    addon_ids=addons,
                )
            except BookingRefused:
                continue
            made += 1
            break
    return made


def seed_bookings(institution: Institution, teams: dict, users: dict[str, User]) -> int:  # type: ignore[type-arg]
    """Returns the number of bookings made now (0 when the demo already has its bookings)."""
    admin, manager = users["admin"], users["manager"]
    if not Branch.objects.filter(institution=institution).exists():
        branches = [
            ps.do_create_branch(
                actor=admin,
                code="XH",
                name="西湖院区",
                address="杭州市西湖区文三路 90 号",
                open_weekdays=[1, 2, 3, 4, 5, 6],
            ),
            ps.do_create_branch(
                actor=admin,
                code="BJ",
                name="滨江院区",
                address="杭州市滨江区江南大道 588 号",
                open_weekdays=[1, 2, 3, 4, 5],
            ),
        ]
        resources = {
            "gastroscopy": ps.do_create_resource(actor=admin, code="gastroscopy", name="胃镜"),
            "ldct": ps.do_create_resource(actor=admin, code="ldct", name="低剂量螺旋CT"),
        }
        _packages(admin, branches, resources)
    _capacity(admin, institution)
    if Appointment.objects.filter(institution=institution).exists():
        return 0
    return _bookings(manager, institution, teams["慢病管理一组"].id)
