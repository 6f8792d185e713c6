"""The client's side: their own questionnaires in the portal, and the signed link (valid,
expired, used, tampered), each opening ledgered."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from careledger.ledger.models import LedgerEntry
from careledger.portal.services import _portal_user
from careledger.questionnaires import links
from careledger.questionnaires.models import QuestionnaireResponse, ResponseLink
from questionnaires.conftest import gad7_answers

pytestmark = pytest.mark.django_db


def answers_post(answers: dict[str, str], op: str) -> dict[str, str]:
    return {**{f"a.{k}": v for k, v in answers.items()}, "op": op}


def issue(world, member, questionnaire) -> str:  # type: ignore[no-untyped-def]
    """A link issued through the service; the token as the SMS would carry it."""
    captured: dict[str, str] = {}
    real = links.make_token

    def spy(link_id, expires_at):  # type: ignore[no-untyped-def]
        captured["token"] = real(link_id, expires_at)
        return captured["token"]

    links.make_token = spy  # type: ignore[assignment]
    try:
        links.do_issue_link(
            actor=world.manager,
            client_id=member.id,
            questionnaire_id=questionnaire.id,
            base_url="https://careledger.example.cn",
        )
    finally:
        links.make_token = real  # type: ignore[assignment]
    return captured["token"]


def refusals(reason: str) -> list[dict]:
    rows = LedgerEntry.objects.filter(action="questionnaire.link.open", outcome="denied")
    return [json.loads(r.leaf) for r in rows if json.loads(r.leaf)["detail"]["reason"] == reason]


# -- the portal -------------------------------------------------------------------------------


def test_a_client_fills_in_their_own_questionnaire_in_the_portal(world, member, builtin, client):
    client.force_login(_portal_user(member))
    listing = client.get("/portal/questionnaires/")
    assert listing.status_code == 200 and "广泛性焦虑障碍量表" in listing.content.decode()
    started = client.post("/portal/questionnaires/", {"questionnaire": str(builtin["gad7"].id)})
    fill_url = started["Location"]
    assert "/portal/questionnaires/fill/?response=" in fill_url
    assert "client" not in fill_url and str(member.id) not in fill_url
    client.post(fill_url, answers_post({"gad7_1": "3"}, "save"))
    assert 'value="3" checked' in client.get(fill_url).content.decode()
    done = client.post(fill_url, answers_post(gad7_answers(3, 3, 3, 2, 2, 1, 1), "submit"))
    assert done.status_code == 302
    response = QuestionnaireResponse.objects.get(client=member)
    assert (response.status, response.channel) == ("completed", "portal")
    listing = client.get("/portal/questionnaires/").content.decode()
    submitted = listing.split('id="done-title"')[1]
    assert "广泛性焦虑障碍量表" in submitted and "分" not in submitted  # listed, no score shown


def test_client_b_cannot_open_client_as_response(world, member, builtin, client):
    other = world.enrol(name="司马青衫")
    from careledger.clients.models import Client

    theirs = _portal_user(Client.objects.get(pk=other.client_id))
    client.force_login(_portal_user(member))
    started = client.post("/portal/questionnaires/", {"questionnaire": str(builtin["gad7"].id)})
    client.logout()
    client.force_login(theirs)
    response = client.get(started["Location"])
    assert response.status_code == 404
    assert LedgerEntry.objects.filter(actor_id=str(theirs.id), outcome="denied").exists()
    posted = client.post(
        started["Location"], answers_post(gad7_answers(0, 0, 0, 0, 0, 0, 0), "submit")
    )
    assert posted.status_code == 404
    assert QuestionnaireResponse.objects.get(client=member).status == "in_progress"


def test_staff_are_kept_out_of_the_portal_pages(world, member, builtin, login):
    http = login(world.manager)
    assert http.get("/portal/questionnaires/").status_code == 403


# -- the signed link --------------------------------------------------------------------------


def test_a_valid_link_opens_resumes_and_is_used_up_by_submitting(world, member, builtin, client):
    token = issue(world, member, builtin["gad7"])
    page = client.get(f"/portal/q/{token}/")
    assert page.status_code == 200 and "感觉紧张、焦虑或急切" in page.content.decode()
    client.post(f"/portal/q/{token}/", answers_post({"gad7_1": "2"}, "save"))
    assert 'value="2" checked' in client.get(f"/portal/q/{token}/").content.decode()
    done = client.post(
        f"/portal/q/{token}/", answers_post(gad7_answers(2, 2, 1, 1, 1, 0, 0), "submit")
    )
    assert done.status_code == 200 and "谢谢，问卷已提交。" in done.content.decode()
    response = QuestionnaireResponse.objects.get(client=member)
    assert (response.status, response.channel) == ("completed", "link")
    assert ResponseLink.objects.get(client=member).used_at is not None
    again = client.get(f"/portal/q/{token}/")
    assert again.status_code == 403 and "此问卷已通过该链接提交" in again.content.decode()
    assert refusals("used")[0]["client"] == str(member.id)
    opened = LedgerEntry.objects.filter(action="questionnaire.link.open", outcome="allowed")
    assert opened.exists() and all(e.actor_id == "anonymous" for e in opened)


def test_an_expired_link_is_refused_clearly_and_ledgered(world, member, builtin, client):
    token = issue(world, member, builtin["gad7"])
    later = timezone.now() + links.LINK_TTL + dt.timedelta(minutes=1)
    assert links.open_link(token, now=later).state == links.EXPIRED
    ResponseLink.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    page = client.get(f"/portal/q/{token}/")
    assert page.status_code == 403 and "此链接已过期" in page.content.decode()
    assert refusals("expired")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the HMAC
        lambda t: ("A" if t[0] != "A" else "B") + t[1:],  # the link id
        lambda t: t[:30],  # truncated
        lambda t: "not-a-token",
    ],
)
def test_a_tampered_link_is_refused_and_ledgered(world, member, builtin, client, tamper):
    token = issue(world, member, builtin["gad7"])
    page = client.get(f"/portal/q/{tamper(token)}/")
    assert page.status_code == 403 and "此链接无效" in page.content.decode()
    assert refusals("tampered") or refusals("malformed")
    assert not QuestionnaireResponse.objects.filter(client=member).exists()
    assert client.post(f"/portal/q/{tamper(token)}/", answers_post({}, "submit")).status_code == 403


def test_only_a_hash_of_the_token_is_stored(world, member, builtin):
    token = issue(world, member, builtin["gad7"])
    row = ResponseLink.objects.get(client=member)
    assert row.token_hash == links.token_hash(token) and token not in str(row.__dict__)


def test_a_forged_token_with_a_valid_mac_but_another_hash_is_unknown(world, member, builtin):
    issue(world, member, builtin["gad7"])
    row = ResponseLink.objects.get(client=member)
    forged = links.make_token(row.id, row.expires_at + dt.timedelta(days=30))  # longer life
    assert links.open_link(forged).state == links.UNKNOWN


def test_a_signed_in_portal_client_is_sent_to_their_own_pages(world, member, builtin, client):
    token = issue(world, member, builtin["gad7"])
    client.force_login(_portal_user(member))
    response = client.get(f"/portal/q/{token}/")
    assert response.status_code == 302 and response["Location"] == "/portal/questionnaires/"
    bad = client.get("/portal/q/garbage/")
    assert bad.status_code == 302 and refusals("malformed")


def test_a_link_to_a_replaced_version_starts_the_version_now_in_use(world, member, builtin, client):
    from careledger.questionnaires import config_services

    token = issue(world, member, builtin["gad7"])
    draft = config_services.do_new_version(actor=world.admin, questionnaire_id=builtin["gad7"].id)
    config_services.do_publish(actor=world.admin, questionnaire_id=draft.id)
    page = client.get(f"/portal/q/{token}/")
    assert page.status_code == 200 and "感觉紧张、焦虑或急切" in page.content.decode()
    response = QuestionnaireResponse.objects.get(client=member)
    assert response.questionnaire_id == draft.id and response.channel == "link"


def test_a_link_to_a_retired_questionnaire_says_so_and_is_ledgered(world, member, builtin, client):
    from careledger.questionnaires import config_services

    token = issue(world, member, builtin["gad7"])
    config_services.do_retire(actor=world.admin, questionnaire_id=builtin["gad7"].id)
    page = client.get(f"/portal/q/{token}/")
    assert page.status_code == 403 and "此问卷已停用" in page.content.decode()
    assert refusals("withdrawn")[0]["client"] == str(member.id)
    posted = client.post(
        f"/portal/q/{token}/", answers_post(gad7_answers(0, 0, 0, 0, 0, 0, 0), "submit")
    )
    assert posted.status_code == 403
    assert not QuestionnaireResponse.objects.filter(client=member).exists()
