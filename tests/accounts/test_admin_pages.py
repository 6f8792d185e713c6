"""The institution admin's staff-account pages: locked accounts and unlock, reset links (which
never bypass MFA), MFA reset (step-up), disable/enable; who may and who may not, all ledgered."""

from __future__ import annotations

import re
import time

import pytest
from auth_helpers import all_leaves, events, sign_in
from django.test import Client as HttpClient
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from careledger.accounts import lockout, mfa, session_rules
from careledger.accounts.models import PasswordResetLink, User
from conftest import TEST_PASSWORD, login_verified, totp_code, totp_device

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Lantern-river-2048"


def lock_out(username: str) -> None:
    for _ in range(lockout.failure_limit()):
        sign_in(HttpClient(), username, "Wrong-password-1", ip="10.4.4.4")
    assert lockout.is_locked(username)


def stale(http: HttpClient) -> HttpClient:
    session = http.session
    session[session_rules.MFA_AT] = time.time() - 3600
    session.save()
    return http


@pytest.fixture
def other_admin(world):  # type: ignore[no-untyped-def]
    return User.objects.create_user(
        username="admin2",
        password=TEST_PASSWORD,
        role="institution_admin",
        institution=world.other_inst,
    )


# ---- locked accounts -------------------------------------------------------------------------


def test_the_admin_sees_locked_accounts_of_their_institution_and_unlocks_them(
    world, login, other_admin
):  # type: ignore[no-untyped-def]
    lock_out("doctor")
    lock_out("outsider")  # another institution's user
    http = login(world.admin)
    html = http.get(reverse("accounts:admin_locked")).content.decode()
    assert 'id="locked-doctor"' in html and "outsider" not in html
    response = http.post(reverse("accounts:admin_unlock"), {"user": world.doctor.pk})
    assert response.status_code == 302
    assert not lockout.is_locked("doctor")
    assert sign_in(HttpClient(), "doctor", ip="10.4.4.5").status_code == 302
    [event] = events("auth.unlock")
    assert event["actor"] == str(world.admin.id)
    assert event["resource"] == {"type": "user", "id": str(world.doctor.id)}
    assert "没有被锁定的账户" in http.get(reverse("accounts:admin_locked")).content.decode()


def test_an_admin_cannot_unlock_another_institutions_user(world, login, other_admin):  # type: ignore[no-untyped-def]
    lock_out("doctor")
    http = login(other_admin)
    response = http.post(reverse("accounts:admin_unlock"), {"user": world.doctor.pk})
    assert response.status_code == 403
    assert lockout.is_locked("doctor")
    [denied] = events("account.unlock", outcome="denied")
    assert denied["detail"] == {"reason": "other_institution"}


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "analyst", "outsider"])
def test_other_roles_cannot_open_the_staff_account_pages(world, login, who):  # type: ignore[no-untyped-def]
    user = getattr(world, who)
    http = login(user)
    for url in (
        reverse("accounts:admin_users"),
        reverse("accounts:admin_locked"),
        reverse("accounts:admin_reset_link") + f"?user={world.doctor.pk}",
        reverse("accounts:admin_mfa_reset") + f"?user={world.doctor.pk}",
    ):
        assert http.get(url).status_code == 403, url
    for name in ("admin_unlock", "admin_set_active", "admin_reset_link", "admin_mfa_reset"):
        response = http.post(reverse(f"accounts:{name}"), {"user": world.doctor.pk, "active": "0"})
        assert response.status_code == 403, name
    world.doctor.refresh_from_db()
    assert world.doctor.is_active
    assert len(events("account.view", outcome="denied")) == 2
    assert len(events("account.admin_pages", outcome="denied")) == 6


def test_the_auditor_sees_the_lists_but_cannot_act(world, login):  # type: ignore[no-untyped-def]
    lock_out("nurse")
    http = login(world.auditor)
    users = http.get(reverse("accounts:admin_users")).content.decode()
    assert 'id="user-nurse"' in users and "已锁定" in users
    assert reverse("accounts:admin_set_active") not in users
    assert reverse("accounts:admin_reset_link") not in users
    locked = http.get(reverse("accounts:admin_locked")).content.decode()
    assert 'id="locked-nurse"' in locked and reverse("accounts:admin_unlock") not in locked
    assert http.post(reverse("accounts:admin_unlock"), {"user": world.nurse.pk}).status_code == 403
    assert lockout.is_locked("nurse")
    get_link = reverse("accounts:admin_reset_link") + f"?user={world.nurse.pk}"
    assert http.get(get_link).status_code == 403
    assert len(events("account.admin_pages", outcome="denied")) == 2


def test_the_menu_offers_staff_accounts_to_admins_and_auditors_only(world, login):  # type: ignore[no-untyped-def]
    url = reverse("accounts:admin_users")
    assert url in login(world.admin).get("/").content.decode()
    assert url in login(world.auditor).get("/").content.decode()
    assert url not in login(world.manager).get("/").content.decode()


def test_an_admin_does_not_act_on_themselves(world, login):  # type: ignore[no-untyped-def]
    http = login(world.admin)
    response = http.post(
        reverse("accounts:admin_set_active"), {"user": world.admin.pk, "active": "0"}
    )
    assert response.status_code == 403
    world.admin.refresh_from_db()
    assert world.admin.is_active


def test_a_bad_or_missing_target_is_404(world, login):  # type: ignore[no-untyped-def]
    http = login(world.admin)
    assert http.post(reverse("accounts:admin_unlock"), {"user": "nope"}).status_code == 404
    assert http.post(reverse("accounts:admin_unlock"), {}).status_code == 404


def test_the_staff_list_shows_state_without_secrets(world, login):  # type: ignore[no-untyped-def]
    totp_device(world.doctor)
    lock_out("nurse")
    html = login(world.admin).get(reverse("accounts:admin_users")).content.decode()
    for who in ("manager", "doctor", "nurse", "auditor", "analyst"):
        assert f'id="user-{who}"' in html
    assert "outsider" not in html
    doctor_row = html.split('id="user-doctor"')[1].split("</tr>")[0]
    assert "已绑定验证器" in doctor_row
    nurse_row = html.split('id="user-nurse"')[1].split("</tr>")[0]
    assert "已锁定" in nurse_row and "解锁" in nurse_row
    assert TOTPDevice.objects.get(user=world.doctor).key not in html


# ---- reset links -----------------------------------------------------------------------------


def issue_link(http: HttpClient, target: User) -> str:
    response = http.post(reverse("accounts:admin_reset_link"), {"user": target.pk})
    assert response.status_code == 200, response.status_code
    match = re.search(r'id="reset-url">(http[^<]+)<', response.content.decode())
    assert match
    return match.group(1).replace("http://testserver", "")


def test_issuing_a_reset_link_needs_step_up(world, login):  # type: ignore[no-untyped-def]
    http = stale(login(world.admin))
    response = http.get(reverse("accounts:admin_reset_link") + f"?user={world.doctor.pk}")
    assert response.status_code == 302 and response["Location"].startswith("/account/step-up/")
    response = http.post(reverse("accounts:admin_reset_link"), {"user": world.doctor.pk})
    assert response.status_code == 302
    assert not PasswordResetLink.objects.exists()


def test_a_reset_sets_the_password_once_and_never_bypasses_mfa(world, login):  # type: ignore[no-untyped-def]
    device = totp_device(world.doctor)
    doctors_desk = login_verified(HttpClient(), world.doctor)
    link = issue_link(login(world.admin), world.doctor)
    assert PasswordResetLink.objects.get().digest not in link  # only the hash is stored

    visitor = HttpClient()
    response = visitor.get(link)
    assert response.status_code == 302
    form_url = response["Location"]
    assert form_url == reverse("accounts:reset_confirm")  # the token leaves the address bar
    weak = visitor.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200 and "密码" in weak.content.decode()
    response = visitor.post(
        form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("web:login")
    assert visitor.get("/").status_code == 302  # setting a password signs no one in

    # The doctor's old sessions are over; the link is spent.
    assert doctors_desk.get("/").status_code == 302
    assert "此链接无法使用" in HttpClient().get(link).content.decode()

    # The new password leads to MFA, not to the workbench.
    http = HttpClient()
    response = sign_in(http, "doctor", NEW_PASSWORD)
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))
    assert http.get("/").status_code == 302
    assert http.post(reverse("accounts:mfa_verify"), {"code": totp_code(device)}).status_code == 302
    assert http.get("/").status_code == 200

    issued, used = events("auth.password_reset_issue"), events("auth.password_reset_use")
    assert issued[0]["actor"] == str(world.admin.id)
    assert [e["outcome"] for e in used] == ["allowed", "denied"]
    assert NEW_PASSWORD not in all_leaves() and link.split("/")[-2] not in all_leaves()


def test_a_new_link_revokes_the_old_one_and_links_expire(world, login, settings):  # type: ignore[no-untyped-def]
    admin = login(world.admin)
    first = issue_link(admin, world.doctor)
    second = issue_link(admin, world.doctor)
    assert "此链接无法使用" in HttpClient().get(first).content.decode()
    assert HttpClient().get(second).status_code == 302
    PasswordResetLink.objects.update(expires_at="2000-01-01T00:00:00Z")
    assert "此链接无法使用" in HttpClient().get(second).content.decode()
    assert HttpClient().get("/account/reset/made-up-token/").status_code == 200
    assert "此链接无法使用" in HttpClient().get(reverse("accounts:reset_confirm")).content.decode()


def test_an_admin_cannot_issue_links_for_another_institution(world, login, other_admin):  # type: ignore[no-untyped-def]
    http = login(other_admin)
    response = http.get(reverse("accounts:admin_reset_link") + f"?user={world.doctor.pk}")
    assert response.status_code == 403
    response = http.post(reverse("accounts:admin_reset_link"), {"user": world.doctor.pk})
    assert response.status_code == 403
    assert not PasswordResetLink.objects.exists()
    assert len(events("account.password_reset_issue", outcome="denied")) == 2


# ---- MFA reset -------------------------------------------------------------------------------


def test_an_mfa_reset_needs_step_up_and_forces_re_enrolment(world, login):  # type: ignore[no-untyped-def]
    totp_device(world.doctor)
    mfa.new_backup_codes(world.doctor)
    doctors_desk = login_verified(HttpClient(), world.doctor)
    admin = stale(login(world.admin))
    response = admin.post(reverse("accounts:admin_mfa_reset"), {"user": world.doctor.pk})
    assert response.status_code == 302 and response["Location"].startswith("/account/step-up/")
    assert TOTPDevice.objects.filter(user=world.doctor).exists()

    admin = login(world.admin)  # fresh MFA
    confirm = admin.get(reverse("accounts:admin_mfa_reset") + f"?user={world.doctor.pk}")
    assert "重置两步验证" in confirm.content.decode()
    response = admin.post(reverse("accounts:admin_mfa_reset"), {"user": world.doctor.pk})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.doctor).exists()
    assert not StaticDevice.objects.filter(user=world.doctor).exists()
    assert doctors_desk.get("/").status_code == 302  # their sessions ended

    http = HttpClient()
    sign_in(http, "doctor")
    response = http.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:mfa_enrol"))
    [event] = events("auth.mfa_reset")
    assert event["actor"] == str(world.admin.id) and event["detail"] == {"devices_removed": 2}


def test_an_admin_cannot_reset_mfa_or_disable_another_institutions_user(world, login, other_admin):  # type: ignore[no-untyped-def]
    totp_device(world.doctor)
    http = login(other_admin)
    confirm = http.get(reverse("accounts:admin_mfa_reset") + f"?user={world.doctor.pk}")
    assert confirm.status_code == 403
    assert (
        http.post(reverse("accounts:admin_mfa_reset"), {"user": world.doctor.pk}).status_code == 403
    )
    response = http.post(
        reverse("accounts:admin_set_active"), {"user": world.doctor.pk, "active": "0"}
    )
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=world.doctor).exists()
    world.doctor.refresh_from_db()
    assert world.doctor.is_active
    assert not events("auth.mfa_reset") and not events("account.disable", outcome="allowed")
    refused = events("account.mfa_reset", outcome="denied") + events(
        "account.disable", outcome="denied"
    )
    assert [e["detail"] for e in refused] == [{"reason": "other_institution"}] * 3


def test_backup_codes_are_regenerated_after_step_up(world, login):  # type: ignore[no-untyped-def]
    old = mfa.new_backup_codes(world.manager)
    http = stale(login(world.manager))
    response = http.post(reverse("accounts:backup_codes"))
    assert response.status_code == 302 and response["Location"].startswith("/account/step-up/")
    http = login(world.manager)
    response = http.post(reverse("accounts:backup_codes"))
    codes = re.findall(r'user-select-all">([a-z2-7]{8})<', response.content.decode())
    assert len(codes) == 10 and not set(codes) & set(old)
    assert mfa.backup_codes_left(world.manager) == 10
    assert len(events("auth.backup_codes_regenerated")) == 1


def test_the_account_page_shows_the_users_own_state(world, login):  # type: ignore[no-untyped-def]
    mfa.new_backup_codes(world.manager, count=4)
    html = login(world.manager).get(reverse("accounts:overview")).content.decode()
    assert "账户安全" in html and 'id="backup-codes-left">4<' in html
