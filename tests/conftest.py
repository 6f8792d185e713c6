"""Shared fixtures. Data is built through the services (as the product builds it), never by
raw inserts, so tests exercise encryption, blind indexes and the ledger on the way in."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import os
import random
import secrets

import pytest
from stdnum.cn import ric

from careledger.clients.validation import ClientInput

TEST_PASSWORD = "Correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Fast password hashing; a master key of the test's own; no network."""
    from careledger.crypto import keyring

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CARELEDGER_MASTER_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    settings.CARELEDGER_KEY_FILE = tmp_path / "master.key"
    keyring.clear_cache()
    yield
    keyring.clear_cache()


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):  # type: ignore[no-untyped-def]
    import socket

    real_connect = socket.socket.connect

    def guarded(self, address):  # type: ignore[no-untyped-def]
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in {"127.0.0.1", "localhost", "::1"}
            and not (isinstance(address, str) or host.startswith("/"))
        ):
            raise RuntimeError(f"tests may not reach the network ({host})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def make_citizen_id(birth: dt.date, sex: str, serial: int, region: str = "330102") -> str:
    """A valid GB 11643 number for the given birth date and sex (check digit by stdnum)."""
    seq = serial % 500 * 2 + (1 if sex == "M" else 0)  # 17th digit odd for men
    body = f"{region}{birth:%Y%m%d}{seq:03d}"[:17]
    return body + ric.calc_check_digit(body + "0")


# A random start, so that modules importing this file under another name (conftest vs
# tests.conftest) do not hand out the same phone numbers within one test.
_serial = itertools.count(random.SystemRandom().randrange(1, 9 * 10**7))


def client_input(team, **overrides) -> ClientInput:  # type: ignore[no-untyped-def]
    n = next(_serial)
    birth = overrides.pop("birth_date", dt.date(1970 + n % 40, 1 + n % 12, 1 + n % 28))
    sex = overrides.pop("sex", "M" if n % 2 else "F")
    data = ClientInput(
        name=overrides.pop("name", "张三明"),
        sex=sex,
        birth_date=birth,
        document_type="resident_id",
        document_number=overrides.pop("document_number", make_citizen_id(birth, sex, n)),
        phone=overrides.pop("phone", f"139{n:08d}"),
        address=overrides.pop("address", "浙江省杭州市西湖区文三路100号"),
        emergency_contact_name=overrides.pop("emergency_contact_name", "李四"),
        emergency_contact_phone=overrides.pop("emergency_contact_phone", f"137{n:08d}"),
        emergency_contact_relation=overrides.pop("emergency_contact_relation", "spouse"),
        membership_level=overrides.pop("membership_level", "gold"),
        care_team_ids=overrides.pop("care_team_ids", [team.id]),
    )
    assert not overrides, f"unknown overrides {overrides}"
    return data


class World:
    """Two institutions; in the first, two care teams and a user of every role."""

    def __init__(self) -> None:
        from careledger.accounts.models import User
        from careledger.institutions.models import (
            CareTeam,
            CareTeamMembership,
            Department,
            Institution,
        )

        self.inst = Institution.objects.create(code="1001", name="示范中心")
        self.other_inst = Institution.objects.create(code="2002", name="另一家机构")
        dept = Department.objects.create(institution=self.inst, name="健康管理部")
        other_dept = Department.objects.create(institution=self.other_inst, name="健康管理部")
        self.team_a = CareTeam.objects.create(institution=self.inst, department=dept, name="A组")
        self.team_b = CareTeam.objects.create(institution=self.inst, department=dept, name="B组")
        self.other_team = CareTeam.objects.create(
            institution=self.other_inst, department=other_dept, name="外部组"
        )

        def user(username: str, role: str, inst, teams=()):  # type: ignore[no-untyped-def]
            u = User.objects.create_user(
                username=username,
                password=TEST_PASSWORD,
                role=role,
                institution=inst,
                display_name=username,
            )
            for t in teams:
                CareTeamMembership.objects.create(care_team=t, user=u)
            return u

        self.manager = user("manager", "health_manager", self.inst, [self.team_a])
        self.doctor = user("doctor", "doctor", self.inst, [self.team_a])
        self.nurse = user("nurse", "nurse", self.inst, [self.team_a])
        self.admin = user("admin", "institution_admin", self.inst)
        self.auditor = user("auditor", "auditor", self.inst)
        self.analyst = user("analyst", "analyst", self.inst)
        self.manager_b = user("manager_b", "health_manager", self.inst, [self.team_b])
        self.outsider = user("outsider", "health_manager", self.other_inst, [self.other_team])

    def enrol(self, actor=None, team=None, **overrides):  # type: ignore[no-untyped-def]
        from careledger.clients.services import do_enrol_client

        return do_enrol_client(
            actor=actor or self.manager, data=client_input(team or self.team_a, **overrides)
        )


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    return World()


def totp_device(user):  # type: ignore[no-untyped-def]
    """The user's confirmed authenticator (made on first use), as enrolment would leave it."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def totp_code(device, *, steps_ahead: int = 0) -> str:  # type: ignore[no-untyped-def]
    """The code the user's authenticator app shows now (or `steps_ahead` 30-s steps later)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def login_verified(http, user):  # type: ignore[no-untyped-def]
    """Sign `http` (a django.test.Client) in as `user` with MFA passed, as the MFA page does."""
    import time

    from django_otp import DEVICE_ID_SESSION_KEY

    from careledger.accounts.session_rules import MFA_AT

    http.force_login(user)  # django.contrib.auth.login: rotates the key, stamps the session
    if user.role != "client":
        session = http.session
        session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
        session[MFA_AT] = time.time()
        session.save()
    return http


@pytest.fixture
def login(client):  # type: ignore[no-untyped-def]
    """A test client signed in as the user with MFA passed (what every page test needs)."""

    def as_user(user):  # type: ignore[no-untyped-def]
        return login_verified(client, user)

    return as_user


@pytest.fixture
def login_without_mfa(client):  # type: ignore[no-untyped-def]
    """Password only: the session is signed in but has not passed MFA (for refusal tests)."""

    def as_user(user):  # type: ignore[no-untyped-def]
        client.force_login(user)
        return client

    return as_user


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    url = os.environ.get("DATABASE_URL", "")
    return f"database: {'PostgreSQL' if url.startswith('postgres') else 'SQLite'}"
