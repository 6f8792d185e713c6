"""The client's own consents in the portal: read the text, confirm with an SMS code (hashed at
rest, expiring, five tries), withdraw at once; nobody reaches another client's consent; staff
are kept out of the portal pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from careledger.consent import selectors, services
from careledger.consent.models import Consent, ConsentChallenge
from careledger.consent.purposes import Purpose
from careledger.ledger.models import LedgerEntry
from portal.conftest import sent_codes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_tasks(settings):  # type: ignore[no-untyped-def]
    from careledger.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


PHONE = "13911112222"


def give(p, text, outbox, *, code=None):  # type: ignore[no-untyped-def]
    http = p.http
    assert (
        "我同意，发送验证码" in http.get(f"/portal/consents/give/?text={text.id}").content.decode()
    )
    with p.capture(execute=True):
        response = http.post("/portal/consents/give/", {"text": str(text.id)})
    assert response["Location"] == "/portal/consents/confirm/"
    typed = code or sent_codes(outbox)[-1]
    with p.capture(execute=True):
        return http.post("/portal/consents/confirm/", {"code": typed})


def test_a_client_gives_a_consent_confirmed_by_sms_and_withdraws_it(world, texts, sign_in, outbox):  # type: ignore[no-untyped-def]
    member = world.enrol(phone=PHONE)
    p = sign_in(PHONE)
    page = p.http.get("/portal/consents/").content.decode()
    assert "我的知情同意" in page and "您尚未给出任何同意" in page
    response = give(p, texts[Purpose.FOLLOWUP_SMS], outbox)
    assert response.status_code == 302
    assert selectors.has_consent(client_id=member.client_id, purpose="followup_sms")
    consent = Consent.objects.get(client_id=member.client_id)
    assert consent.method == "portal_otp" and consent.text_version == 1
    challenge = ConsentChallenge.objects.get()
    code = sent_codes(outbox)[-1]
    assert code not in challenge.code_hash and len(challenge.code_hash) == 64  # HMAC only
    p.http.post("/portal/consents/withdraw/", {"consent": str(consent.id)})
    assert not selectors.has_consent(client_id=member.client_id, purpose="followup_sms")
    assert LedgerEntry.objects.filter(
        action="consent.withdraw", client_id=str(member.client_id)
    ).exists()


def test_wrong_codes_are_counted_and_burn_the_challenge(world, texts, sign_in, outbox):  # type: ignore[no-untyped-def]
    member = world.enrol(phone=PHONE)
    p = sign_in(PHONE)
    response = give(p, texts[Purpose.RESEARCH], outbox, code="000000")
    real = sent_codes(outbox)[-1]
    if real == "000000":  # one in a million
        pytest.skip("the random code was the wrong guess")
    assert response.status_code == 400 and "还可以尝试 4 次" in response.content.decode()
    for _ in range(4):
        response = p.http.post("/portal/consents/confirm/", {"code": "000000"})
    assert "错误次数过多" in response.content.decode()
    assert ConsentChallenge.objects.get().burnt_at is not None
    response = p.http.post("/portal/consents/confirm/", {"code": real})
    assert response.status_code == 302  # the challenge is gone from the session
    assert not Consent.objects.filter(client_id=member.client_id).exists()
    assert LedgerEntry.objects.filter(action="consent.give", outcome="denied").count() >= 5


def test_an_expired_code_gives_nothing(world, texts, sign_in, outbox):  # type: ignore[no-untyped-def]
    member = world.enrol(phone=PHONE)
    p = sign_in(PHONE)
    with p.capture(execute=True):
        p.http.post("/portal/consents/give/", {"text": str(texts[Purpose.RESEARCH].id)})
    ConsentChallenge.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = p.http.post("/portal/consents/confirm/", {"code": sent_codes(outbox)[-1]})
    assert "验证码已过期" in response.content.decode()
    assert not Consent.objects.filter(client_id=member.client_id).exists()


def test_a_client_cannot_withdraw_or_confirm_for_someone_else(world, texts, sign_in, outbox):  # type: ignore[no-untyped-def]
    a = world.enrol(phone=PHONE)
    world.enrol(phone="13933334444")
    theirs = services.do_record(
        actor=world.manager,
        client_id=a.client_id,
        text_id=texts[Purpose.RESEARCH].id,
        method="paper",
        reference="x",
    )
    b = sign_in("13933334444")
    assert b.http.post("/portal/consents/withdraw/", {"consent": str(theirs.id)}).status_code == 404
    assert selectors.has_consent(client_id=a.client_id, purpose="research")
    assert LedgerEntry.objects.filter(action="consent.withdraw", outcome="denied").exists()
    # A text of another institution is not offered.
    from careledger.accounts.models import User
    from careledger.consent import text_services

    other_admin = User.objects.create_user(
        username="a2", password="x" * 12, role="institution_admin", institution=world.other_inst
    )
    foreign = text_services.do_create_draft(
        actor=other_admin, purpose="research", title="t", body="b"
    )
    text_services.do_publish(actor=other_admin, text_id=foreign.id)
    assert b.http.get(f"/portal/consents/give/?text={foreign.id}").status_code == 404


def test_staff_are_kept_out_of_the_portal_consents(world, login):  # type: ignore[no-untyped-def]
    assert login(world.manager).get("/portal/consents/").status_code in {302, 403}
