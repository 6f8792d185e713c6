"""The staff consent page and the admin's consent texts: Chinese first, desk capture and
withdrawal through the page, the FHIR export valid against fhir.resources, every other role
refused, and the admin's texts immutable once published."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from careledger.consent import selectors, services, text_services
from careledger.consent.models import Consent, ConsentText
from careledger.consent.purposes import Purpose
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def url(client_id, tail: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/clients/{client_id}/consents/{tail}"


def test_the_care_team_records_and_withdraws_at_the_desk(world, member, texts, login):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    page = http.get(url(member.client_id)).content.decode()
    assert "知情同意" in page and "登记前台签署的同意" in page and "尚无同意记录" in page
    response = http.post(
        url(member.client_id),
        {
            "action": "give",
            "text": str(texts[Purpose.FOLLOWUP_SMS].id),
            "method": "paper",
            "reference": "纸质同意书 A-77",
        },
    )
    assert response.status_code == 302
    assert selectors.has_consent(client_id=member.client_id, purpose="followup_sms")
    consent = Consent.objects.get(client_id=member.client_id)
    page = http.get(url(member.client_id)).content.decode()
    assert "短信随访与提醒" in page and 'data-state="in-force"' in page
    assert "纸质同意书 A-77" not in page  # the sealed reference is never shown back
    http.post(
        url(member.client_id),
        {
            "action": "withdraw",
            "consent": str(consent.id),
            "method": "paper",
            "reference": "撤回书 9",
        },
    )
    assert not selectors.has_consent(client_id=member.client_id, purpose="followup_sms")
    assert 'data-state="withdrawn"' in http.get(url(member.client_id)).content.decode()


def test_a_bad_desk_capture_says_why_and_records_nothing(world, member, texts, login):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    response = http.post(
        url(member.client_id),
        {
            "action": "give",
            "text": str(texts[Purpose.RESEARCH].id),
            "method": "paper",
            "reference": "",
        },
        follow=True,
    )
    assert "此项为必填项" in response.content.decode()
    response = http.post(
        url(member.client_id),
        {
            "action": "give",
            "text": str(texts[Purpose.SHARE_PARTNER].id),
            "method": "paper",
            "reference": "x",
        },
        follow=True,
    )
    assert "共享需要指定合作机构" in response.content.decode()
    assert not Consent.objects.exists()


def test_the_fhir_export_is_a_valid_bundle_of_the_whole_history(world, member, texts, login):  # type: ignore[no-untyped-def]
    for purpose in (Purpose.SENSITIVE_PI, Purpose.RESEARCH):
        services.do_record(
            actor=world.manager,
            client_id=member.client_id,
            text_id=texts[purpose].id,
            method="recording",
            reference="录音 R-7",
        )
    research = Consent.objects.get(purpose="research")
    services.do_withdraw(actor=world.manager, consent_id=research.id, method="paper", reference="x")
    response = login(world.doctor).get(url(member.client_id, "fhir/"))
    assert response["Content-Type"] == "application/fhir+json"
    data = json.loads(response.content)
    Bundle.model_validate(data)
    statuses = {
        e["resource"]["category"][1]["coding"][0]["code"]: e["resource"]["status"]
        for e in data["entry"]
    }
    assert statuses == {"sensitive_pi": "active", "research": "inactive"}
    assert "录音 R-7" not in response.content.decode()
    assert LedgerEntry.objects.filter(
        action="consent.view", client_id=str(member.client_id)
    ).exists()


@pytest.mark.parametrize("who", ["manager_b", "outsider", "admin", "auditor", "analyst"])
def test_everyone_outside_the_care_team_is_refused_and_ledgered(world, member, texts, login, who):  # type: ignore[no-untyped-def]
    http = login(getattr(world, who))
    for path in (url(member.client_id), url(member.client_id, "fhir/")):
        assert http.get(path).status_code == 403
    response = http.post(
        url(member.client_id),
        {
            "action": "give",
            "text": str(texts[Purpose.RESEARCH].id),
            "method": "paper",
            "reference": "x",
        },
    )
    assert response.status_code == 403
    assert not Consent.objects.exists()
    assert LedgerEntry.objects.filter(outcome="denied", client_id=str(member.client_id)).exists()


def test_a_nurse_sees_the_consents_but_cannot_record_them(world, member, texts, login):  # type: ignore[no-untyped-def]
    http = login(world.nurse)
    page = http.get(url(member.client_id)).content.decode()
    assert "当前有效的同意" in page and 'id="record-consent"' not in page
    response = http.post(
        url(member.client_id),
        {
            "action": "give",
            "text": str(texts[Purpose.RESEARCH].id),
            "method": "paper",
            "reference": "x",
        },
    )
    assert response.status_code == 403 and not Consent.objects.exists()


def test_the_page_costs_a_fixed_number_of_queries(
    world, member, texts, login, django_assert_max_num_queries
):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    for purpose in (Purpose.FOLLOWUP_SMS, Purpose.FOLLOWUP_PHONE):
        services.do_record(
            actor=world.manager,
            client_id=member.client_id,
            text_id=texts[purpose].id,
            method="paper",
            reference="x",
        )
    http.get(url(member.client_id))
    with django_assert_max_num_queries(40) as few:
        http.get(url(member.client_id))
    for purpose in (Purpose.FOLLOWUP_WECHAT, Purpose.RESEARCH, Purpose.SENSITIVE_PI):
        services.do_record(
            actor=world.manager,
            client_id=member.client_id,
            text_id=texts[purpose].id,
            method="paper",
            reference="x",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        http.get(url(member.client_id))


def test_the_admin_writes_publishes_and_cannot_change_a_published_text(world, login):  # type: ignore[no-untyped-def]
    http = login(world.admin)
    assert "知情同意书" in http.get("/config/consents/").content.decode()
    response = http.post(
        "/config/consents/", {"purpose": "research", "title": "科研使用同意书", "body": "第一版"}
    )
    text = ConsentText.objects.get()
    assert response["Location"] == f"/config/consents/{text.id}/"
    http.post(f"/config/consents/{text.id}/", {"title": "科研使用同意书", "body": "第一版（修订）"})
    http.post(f"/config/consents/{text.id}/publish/")
    text.refresh_from_db()
    assert text.status == "published" and text.body == "第一版（修订）"
    response = http.post(
        f"/config/consents/{text.id}/", {"title": "改", "body": "偷偷改"}, follow=True
    )
    assert "已发布的文本不能修改" in response.content.decode()
    text.refresh_from_db()
    assert text.body == "第一版（修订）"
    # A second version retires the first; consents given against v1 keep pointing at it.
    v2 = text_services.do_create_draft(
        actor=world.admin, purpose="research", title="v2", body="第二版"
    )
    text_services.do_publish(actor=world.admin, text_id=v2.id)
    text.refresh_from_db()
    assert (text.status, v2.version) == ("retired", 2)


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "auditor", "analyst", "outsider"])
def test_only_the_admin_manages_texts(world, login, who):  # type: ignore[no-untyped-def]
    http = login(getattr(world, who))
    assert http.get("/config/consents/").status_code == 403
    assert (
        http.post(
            "/config/consents/", {"purpose": "research", "title": "t", "body": "b"}
        ).status_code
        == 403
    )
    assert not ConsentText.objects.exists()


def test_another_institutions_admin_cannot_see_or_publish_our_text(world, login):  # type: ignore[no-untyped-def]
    from careledger.accounts.models import User

    draft = text_services.do_create_draft(
        actor=world.admin, purpose="research", title="t", body="b"
    )
    other = User.objects.create_user(
        username="admin2", password="x" * 12, role="institution_admin", institution=world.other_inst
    )
    http = login(other)
    assert http.get(f"/config/consents/{draft.id}/").status_code == 404
    http.post(f"/config/consents/{draft.id}/publish/")
    draft.refresh_from_db()
    assert draft.status == "draft"
