"""Signing in to the portal with a one-time SMS code: the happy path, single use, expiry,
burn-out after wrong tries, rate limits, and that every step is in the ledger."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from careledger.accounts.models import User
from careledger.ledger.models import LedgerEntry
from careledger.notifications.backends import read_outbox
from careledger.portal import rules, services
from careledger.portal.models import LoginChallenge, PortalAccount

from .conftest import sent_codes

pytestmark = pytest.mark.django_db
PHONE = "13912340000"


@pytest.fixture
def member(world):  # type: ignore[no-untyped-def]
    return world.enrol(name="欧阳明月", phone=PHONE)


def events(action: str, **filters) -> list[LedgerEntry]:  # type: ignore[no-untyped-def]
    return list(LedgerEntry.objects.filter(action=action, **filters).order_by("seq"))


def test_a_client_signs_in_with_a_code_sent_to_their_phone(member, world, portal, outbox) -> None:  # type: ignore[no-untyped-def]
    p = portal()
    response = p.ask("139 1234 0000")
    assert response.status_code == 302 and response["Location"] == "/portal/login/code/"
    [sms] = read_outbox(outbox)
    assert sms["to"] == PHONE and sms["template"] == "portal_login_code"
    assert sms["text"].startswith("【康链健康】") and sms["params"]["code"] in sms["text"]
    p.http.get("/portal/login/code/")
    anonymous_session = p.http.cookies[django_settings.SESSION_COOKIE_NAME].value

    response = p.enter(sms["params"]["code"])
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert p.http.cookies[django_settings.SESSION_COOKIE_NAME].value != anonymous_session

    account = PortalAccount.objects.select_related("user").get(client_id=member.client_id)
    assert account.user.role == "client"
    assert not account.user.has_usable_password()
    assert account.user.institution_id == world.inst.id
    page = p.http.get("/portal/").content.decode()
    assert "欧阳明月" in page and member.card_number in page

    client_id = str(member.client_id)
    assert [e.outcome for e in events("portal.code.request", client_id=client_id)] == ["allowed"]
    assert [e.outcome for e in events("notify.send", client_id=client_id)] == ["allowed"]
    [signed_in] = events("portal.login", client_id=client_id)
    assert signed_in.outcome == "allowed" and signed_in.actor_id == str(account.user_id)
    for entry in LedgerEntry.objects.all():
        assert PHONE not in entry.leaf and sms["params"]["code"] not in entry.leaf


def test_the_next_sign_in_uses_the_same_account(member, portal, outbox) -> None:  # type: ignore[no-untyped-def]
    portal().sign_in(PHONE, outbox)
    again = portal()
    LoginChallenge.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))
    again.sign_in(PHONE, outbox)
    assert PortalAccount.objects.count() == 1
    assert User.objects.filter(role="client").count() == 1


def test_the_portal_session_expires_like_a_staff_session(  # type: ignore[no-untyped-def]
    member, portal, outbox, monkeypatch
) -> None:
    import time

    p = portal()
    p.sign_in(PHONE, outbox)
    assert p.http.session.get_expiry_age() == django_settings.SESSION_COOKIE_AGE
    assert p.http.session.get_expire_at_browser_close()
    assert p.http.get("/portal/").status_code == 200
    # Idle for longer than the staff idle timeout: the next request is signed out.
    later = time.time() + django_settings.CARELEDGER_SESSION_IDLE_SECONDS + 5
    monkeypatch.setattr(time, "time", lambda: later)
    response = p.http.get("/portal/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/login/")
    [ended] = events("auth.session_end")
    assert json.loads(ended.leaf)["role"] == "client"


def ask(member, *, now, ip="203.0.113.9", phone=PHONE, capture):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return services.do_request_code(
            institution_id=member.institution_id, phone=phone, ip=ip, now=now
        )


@pytest.fixture
def member_with_inst(member, world):  # type: ignore[no-untyped-def]
    return SimpleNamespace(client_id=member.client_id, institution_id=world.inst.id)


def test_a_code_works_once(member_with_inst, outbox, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    request = ask(member_with_inst, now=now, capture=django_capture_on_commit_callbacks)
    [code] = sent_codes(outbox)
    first = services.do_verify_code(challenge_id=request.challenge_id, code=code, now=now)
    second = services.do_verify_code(challenge_id=request.challenge_id, code=code, now=now)
    assert first.ok and first.user is not None
    assert (second.ok, second.reason, second.user) == (False, rules.USED, None)
    refused = events("portal.login", outcome="denied")
    assert [json.loads(e.leaf)["detail"]["reason"] for e in refused] == ["used"]


def test_a_code_expires_after_five_minutes(
    member_with_inst, outbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    t0 = timezone.now()
    request = ask(member_with_inst, now=t0, capture=django_capture_on_commit_callbacks)
    [code] = sent_codes(outbox)
    late = services.do_verify_code(
        challenge_id=request.challenge_id, code=code, now=t0 + dt.timedelta(minutes=5)
    )
    assert (late.ok, late.reason) == (False, rules.EXPIRED)
    second = ask(
        member_with_inst,
        now=t0 + dt.timedelta(minutes=2),
        capture=django_capture_on_commit_callbacks,
    )
    code2 = sent_codes(outbox)[-1]
    just_in_time = services.do_verify_code(
        challenge_id=second.challenge_id,
        code=code2,
        now=t0 + dt.timedelta(minutes=2) + rules.CODE_TTL - dt.timedelta(seconds=1),
    )
    assert just_in_time.ok


def test_an_expired_code_is_not_even_sent(
    member_with_inst, outbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # A worker that picks the delivery up after the code expired sends nothing.
    ask(
        member_with_inst,
        now=timezone.now() - rules.CODE_TTL - dt.timedelta(seconds=1),
        capture=django_capture_on_commit_callbacks,
    )
    assert sent_codes(outbox) == []


def test_five_wrong_tries_burn_the_code(member, portal, outbox) -> None:  # type: ignore[no-untyped-def]
    p = portal()
    p.ask(PHONE)
    [code] = sent_codes(outbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    tries_left = []
    for _ in range(4):
        response = p.enter(wrong)
        assert response.status_code == 400
        tries_left.append(response.content.decode())
    assert "还可以再试 4 次" in tries_left[0] and "还可以再试 1 次" in tries_left[3]
    burnt = p.enter(wrong).content.decode()
    assert "输错次数过多" in burnt and 'href="/portal/login/"' in burnt
    # The right code no longer works: the challenge is burnt (and gone from the session).
    assert p.enter(code).status_code == 302
    assert p.http.get("/portal/").status_code == 302  # still not signed in
    challenge = LoginChallenge.objects.get()
    assert challenge.burnt_at is not None and challenge.attempts == 5
    assert services.do_verify_code(challenge_id=challenge.id, code=code).reason == rules.BURNT
    reasons = [json.loads(e.leaf)["detail"]["reason"] for e in events("portal.login")]
    assert reasons == ["wrong_code"] * 4 + ["burnt", "burnt"]
    assert all(e.client_id == str(member.client_id) for e in events("portal.login"))


def test_a_second_code_within_a_minute_is_refused_with_a_clear_message(
    member, portal, outbox
) -> None:  # type: ignore[no-untyped-def]
    p = portal()
    assert p.ask(PHONE).status_code == 302
    response = p.ask(PHONE)
    assert response.status_code == 429
    assert "请等待" in response.content.decode()
    assert len(sent_codes(outbox)) == 1
    refused = events("portal.code.request", outcome="denied")
    assert [json.loads(e.leaf)["detail"]["reason"] for e in refused] == ["phone_interval"]
    assert refused[0].client_id == str(member.client_id)


def test_at_most_five_codes_an_hour_per_number(
    member_with_inst, outbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    t0 = timezone.now()  # the later asks are "in the future", so their codes are still valid
    outcomes = [
        ask(
            member_with_inst,
            now=t0 + dt.timedelta(minutes=2 * i),
            capture=django_capture_on_commit_callbacks,
        ).outcome
        for i in range(6)
    ]
    assert outcomes == ["sent"] * 5 + ["rate_limited"]
    refused = ask(
        member_with_inst,
        now=t0 + dt.timedelta(minutes=12),
        capture=django_capture_on_commit_callbacks,
    )
    assert refused.reason == "phone_hourly" and refused.retry_after > 0
    # Five messages went out, and none after the limit.
    assert len(sent_codes(outbox)) == 5


def test_at_most_twenty_codes_an_hour_per_network(
    member_with_inst, outbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    results = [
        ask(
            member_with_inst,
            now=now,
            phone=f"1370000{i:04d}",
            capture=django_capture_on_commit_callbacks,
        )
        for i in range(21)
    ]
    assert [r.outcome for r in results] == ["sent"] * 20 + ["rate_limited"]
    assert results[-1].reason == "ip_hourly"
    other_network = ask(
        member_with_inst,
        now=now,
        phone="13700009999",
        ip="198.51.100.7",
        capture=django_capture_on_commit_callbacks,
    )
    assert other_network.outcome == "sent"


def test_the_network_limit_message_on_the_page(member, portal, outbox) -> None:  # type: ignore[no-untyped-def]
    p = portal()
    for i in range(20):
        assert p.ask(f"1370000{i:04d}").status_code == 302
    response = p.ask("13700001234")
    assert response.status_code == 429
    assert "您所在网络获取验证码的次数过多" in response.content.decode()


def test_a_malformed_number_is_a_form_error_and_is_ledgered(world, portal, outbox) -> None:  # type: ignore[no-untyped-def]
    response = portal().ask("12345")
    assert response.status_code == 200
    assert "请输入中国大陆手机号" in response.content.decode()
    [entry] = events("portal.code.request")
    assert entry.outcome == "denied"
    assert json.loads(entry.leaf)["detail"] == {"reason": "malformed_number"}
    assert LoginChallenge.objects.count() == 0


def test_an_inactive_client_gets_no_code(member, portal, outbox) -> None:  # type: ignore[no-untyped-def]
    from careledger.clients.models import Client

    Client.objects.filter(pk=member.client_id).update(status="inactive")
    assert portal().ask(PHONE).status_code == 302  # the same answer as for anyone
    assert sent_codes(outbox) == []


def test_signing_out_is_ledgered_and_ends_the_session(member, portal, outbox) -> None:  # type: ignore[no-untyped-def]
    p = portal()
    p.sign_in(PHONE, outbox)
    response = p.http.post("/portal/logout/")
    assert response.status_code == 302 and response["Location"] == "/portal/login/"
    assert p.http.get("/portal/").status_code == 302
    [entry] = events("portal.logout")
    assert entry.client_id == str(member.client_id)


def test_a_disabled_portal_account_cannot_sign_in(member, portal, outbox) -> None:  # type: ignore[no-untyped-def]
    portal().sign_in(PHONE, outbox)
    User.objects.filter(role="client").update(is_active=False)
    LoginChallenge.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))
    p = portal()
    p.ask(PHONE)
    response = p.enter(sent_codes(outbox)[-1])
    assert response.status_code == 400
    assert p.http.get("/portal/").status_code == 302
    assert json.loads(events("portal.login")[-1].leaf)["detail"]["reason"] == "account_disabled"


def test_a_duplicated_delivery_task_sends_one_message(
    member_with_inst, outbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.do_request_code(
            institution_id=member_with_inst.institution_id, phone=PHONE, ip="203.0.113.9"
        )
    [enqueue] = callbacks
    enqueue()
    enqueue()  # a retried or duplicated task: the challenge is already claimed
    assert len(sent_codes(outbox)) == 1
    assert len(events("notify.send")) == 1


def test_a_client_made_inactive_after_signing_in_is_refused_and_it_is_ledgered(
    member, portal, outbox
) -> None:  # type: ignore[no-untyped-def]
    from careledger.clients.models import Client

    p = portal()
    p.sign_in(PHONE, outbox)
    Client.objects.filter(pk=member.client_id).update(status="inactive")
    for url in ("/portal/", "/portal/access-log/"):
        response = p.http.get(url)
        assert response.status_code == 403, url
        assert "欧阳明月" not in response.content.decode()
    refusals = events("portal.access", outcome="denied")
    assert [json.loads(e.leaf)["detail"]["reason"] for e in refusals] == ["client_inactive"] * 2
    assert all(e.client_id == str(member.client_id) for e in refusals)
    assert not events("portal.profile.view") and not events("portal.access_log.view")
