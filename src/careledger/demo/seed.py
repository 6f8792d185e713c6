"""Demo data: one institution with departments, care teams, a user for every role, and
synthetic clients (Faker zh_CN; ID numbers valid under GB 11643, with birth date and sex taken
from the number). Enrolled through the real enrolment service, so the demo exercises the same
encryption, blind indexes and ledger as production. Idempotent: a second run adds nothing.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass

from django.db import transaction
from faker import Faker

from careledger.accounts.models import Role, User
from careledger.clients import identifiers as ids
from careledger.clients.models import MembershipLevel, Relation
from careledger.clients.services import do_enrol_clients
from careledger.clients.validation import ClientInput
from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution

DEMO_CODE = "1001"
DEMO_PASSWORD = "CareLedger-demo-2026"  # noqa: S105 - printed on purpose, demo mode only


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    teams: tuple[str, ...]


TEAMS = {"慢病管理一组": "健康管理部", "慢病管理二组": "健康管理部", "体检随访组": "体检中心"}
USERS = [
    DemoUser("manager", "王健康", Role.HEALTH_MANAGER, ("慢病管理一组",)),
    DemoUser("manager2", "刘管理", Role.HEALTH_MANAGER, ("慢病管理二组",)),
    DemoUser("doctor", "李医生", Role.DOCTOR, ("慢病管理一组", "慢病管理二组")),
    DemoUser("nurse", "张护士", Role.NURSE, ("慢病管理一组", "体检随访组")),
    DemoUser("admin", "陈管理员", Role.INSTITUTION_ADMIN, ()),
    DemoUser("auditor", "赵审计", Role.AUDITOR, ()),
    DemoUser("analyst", "孙分析", Role.ANALYST, ()),
]
# Which team's health manager enrols each share of the clients.
ENROLLERS = [("manager", "慢病管理一组"), ("manager2", "慢病管理二组")]


def _institution() -> tuple[Institution, dict[str, CareTeam]]:
    institution, _ = Institution.objects.get_or_create(
        code=DEMO_CODE, defaults={"name": "康链示范健康管理中心"}
    )
    teams = {}
    for team_name, dept_name in TEAMS.items():
        dept, _ = Department.objects.get_or_create(institution=institution, name=dept_name)
        teams[team_name], _ = CareTeam.objects.get_or_create(
            institution=institution, name=team_name, defaults={"department": dept}
        )
    return institution, teams


def _users(institution: Institution, teams: dict[str, CareTeam]) -> dict[str, User]:
    users = {}
    for spec in USERS:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User(
                username=spec.username,
                display_name=spec.display_name,
                role=spec.role,
                institution=institution,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
        for team_name in spec.teams:
            CareTeamMembership.objects.get_or_create(care_team=teams[team_name], user=user)
        _second_factor(user)
        users[spec.username] = user
    return users


DEMO_BACKUP_CODES = 5


def _second_factor(user: User) -> None:
    """Staff sign in with a TOTP code (careledger.accounts.mfa): give each demo user a confirmed
    authenticator and a few backup codes, once; a second run keeps the devices it finds."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from careledger.accounts import mfa

    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name=mfa.TOTP_NAME, confirmed=True)
    if not StaticDevice.objects.filter(user=user).exists():
        mfa.new_backup_codes(user, count=DEMO_BACKUP_CODES)


def demo_second_factors() -> dict[str, tuple[str, list[str]]]:
    """{username: (authenticator key, unused backup codes)} for the demo printout only."""
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from careledger.accounts import mfa

    found = {}
    for spec in USERS:
        device = TOTPDevice.objects.filter(user__username=spec.username, confirmed=True).first()
        if device is None:
            continue
        codes = StaticToken.objects.filter(device__user=device.user_id).order_by("id")
        found[spec.username] = (mfa.secret_text(device), [t.token for t in codes])
    return found


def synthetic_client(fake: Faker, rng: random.Random, team_id) -> ClientInput:  # type: ignore[no-untyped-def]
    """One plausible client whose ID number, birth date and sex agree."""
    while True:
        citizen = ids.parse_citizen_id(fake.ssn(min_age=18, max_age=85))
        phone = fake.phone_number()
        try:
            phone = ids.normalise_mobile(phone)
        except ids.IdentifierError:
            continue
        name = fake.name_male() if citizen.sex == "M" else fake.name_female()
        contact_phone = fake.phone_number()
        try:
            contact_phone = ids.normalise_mobile(contact_phone)
        except ids.IdentifierError:
            contact_phone = ""
        return ClientInput(
            name=name,
            sex=citizen.sex,
            birth_date=citizen.birth_date,
            document_type="resident_id",
            document_number=citizen.number,
            phone=phone,
            address=fake.address().split(" ")[0],
            emergency_contact_name=fake.name() if contact_phone else "",
            emergency_contact_phone=contact_phone,
            emergency_contact_relation=rng.choice(Relation.values) if contact_phone else "",
            membership_level=rng.choices(MembershipLevel.values, weights=[50, 25, 15, 7, 3])[0],
            care_team_ids=[team_id],
        )


def seed(client_count: int = 300, *, seed_value: int = 2026) -> dict[str, int]:
    """Create the demo institution and clients; returns how many of each were added."""
    with transaction.atomic():
        institution, teams = _institution()
        users = _users(institution, teams)
    existing = institution.clients.count()
    added = rejected = 0
    if existing < client_count:
        fake = Faker("zh_CN")
        fake.seed_instance(seed_value + existing)
        rng = random.Random(seed_value + existing)
        todo = client_count - existing
        for i, (username, team_name) in enumerate(ENROLLERS):
            share = todo // len(ENROLLERS) + (1 if i < todo % len(ENROLLERS) else 0)
            inputs = [synthetic_client(fake, rng, teams[team_name].id) for _ in range(share)]
            result = do_enrol_clients(actor=users[username], inputs=inputs)
            added += len(result.enrolled)
            rejected += len(result.rejected)  # a synthetic duplicate phone, now and then
    # Published consent texts and desk consents for most clients (careledger.consent), before
    # the reminders and exports that ask for them.
    from careledger.consent.demo import seed_consents

    seed_consents(institution, teams, users, ENROLLERS)
    # Check-up packages, capacity for the next 30 days and some bookings (careledger.booking).
    from careledger.booking.demo import seed_bookings

    seed_bookings(institution, teams, users)
    # A research project and an export request awaiting approval (careledger.exports).
    from careledger.exports.demo import seed_exports

    seed_exports(institution, users)
    # Card-level entitlements and some orders (careledger.membership, careledger.store).
    from careledger.store.demo import seed_store

    seed_store(institution, teams, users)
    return {"clients_added": added, "clients_rejected": rejected, "clients": existing + added}


def seed_portal_demo() -> str:
    """Make the client portal usable in the demo: pick one demo client (the earliest enrolled
    of 慢病管理一组) and, once, give their access log entries (a doctor opens the record, a
    nurse finds them by phone, a manager of another team is refused). Returns their mobile
    number, which `seed-demo` prints for portal sign-in (demo mode only)."""
    from careledger.access.enforce import AccessDenied
    from careledger.clients import selectors
    from careledger.ledger.models import LedgerEntry

    institution, teams = _institution()
    client = (
        institution.clients.filter(care_team_links__care_team=teams["慢病管理一组"])
        .order_by("created_at", "id")
        .first()
    )
    if client is None:
        return ""
    users = {u.username: u for u in User.objects.filter(username__in=[d.username for d in USERS])}
    if not LedgerEntry.objects.filter(client_id=str(client.id), action="client.view").exists():
        selectors.get_client(users["doctor"], client.id)
        selectors.search_clients(users["nurse"], client.phone)
        selectors.client_history(users["manager"], client.id)
        with contextlib.suppress(AccessDenied):  # the refusal is in the ledger: the point
            selectors.get_client(users["manager2"], client.id)
    return client.phone
