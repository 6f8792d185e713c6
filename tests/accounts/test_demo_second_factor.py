"""`seed-demo` gives every demo staff user an authenticator key and backup codes (printed in
demo mode only), and a second run keeps them."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from careledger.demo.seed import USERS
from conftest import totp_code

pytestmark = pytest.mark.django_db


def seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--clients", "2", stdout=out)
    return out.getvalue()


def test_demo_users_get_a_printed_key_and_backup_codes_that_survive_a_rerun(settings):  # type: ignore[no-untyped-def]
    from careledger.demo.seed import DEMO_PASSWORD

    settings.DEMO_MODE = True
    first = seed_demo()
    keys = dict(re.findall(r"^  (\w+)\s+key ([A-Z2-7 ]+)$", first, re.M))
    assert set(keys) == {u.username for u in USERS}
    codes = re.findall(r"backup codes ((?:[a-z2-7]{8} ?)+)$", first, re.M)
    assert len(codes) == len(USERS) and all(len(c.split()) == 5 for c in codes)

    doctor = TOTPDevice.objects.get(user__username="doctor", confirmed=True)
    assert keys["doctor"].replace(" ", "") in doctor.config_url

    # Sign in as a new user of `make run` would: password, then a backup code.
    http = HttpClient()
    http.post(reverse("web:login"), {"username": "nurse", "password": DEMO_PASSWORD})
    nurse_code = codes[[u.username for u in USERS].index("nurse")].split()[0]
    assert http.post(reverse("accounts:mfa_verify"), {"code": nurse_code}).status_code == 302
    assert http.get("/").status_code == 200

    second = seed_demo()
    assert dict(re.findall(r"^  (\w+)\s+key ([A-Z2-7 ]+)$", second, re.M)) == keys
    assert nurse_code not in second  # used codes are gone, the others stay
    assert TOTPDevice.objects.filter(user__username="doctor").count() == 1
    # And an authenticator app with the printed key works.
    http = HttpClient()
    http.post(reverse("web:login"), {"username": "doctor", "password": DEMO_PASSWORD})
    assert http.post(reverse("accounts:mfa_verify"), {"code": totp_code(doctor)}).status_code == 302


def test_outside_demo_mode_nothing_is_seeded_or_printed(settings):  # type: ignore[no-untyped-def]
    from django.core.management import CommandError

    settings.DEMO_MODE = False
    with pytest.raises(CommandError):
        seed_demo()
    assert not TOTPDevice.objects.exists()
