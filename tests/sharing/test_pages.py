"""The sharing pages: staff (a client's shares), portal (my shares, confirm by SMS code),
config (partner institutions) — through the real views, in Chinese."""

from __future__ import annotations

import pytest
from tests.portal.conftest import sent_codes
from tests.sharing.conftest import token

from careledger.ledger.models import LedgerEntry
from careledger.sharing.models import GrantStatus, Partner, ShareGrant

pytestmark = pytest.mark.django_db


def _form(partner, **extra):  # type: ignore[no-untyped-def]
    data = {
        "op": "create",
        "partner": str(partner.id),
        "categories": ["demographics", "results"],
        "valid_days": "30",
        "max_uses": "3",
    }
    data.update(extra)
    return data


def test_the_care_team_sees_and_manages_a_clients_shares(world, login, shared, partnered):
    enrolled, grant = shared
    http = login(world.manager)
    url = f"/clients/{enrolled.client_id}/shares/"
    page = http.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "跨机构共享" in text and partnered.partner.name in text and "检查结果" in text
    created = http.post(url, _form(partnered.partner))
    assert created.status_code == 302
    assert ShareGrant.objects.filter(client_id=enrolled.client_id).count() == 2
    revoked = http.post(url, {"op": "revoke", "grant": str(grant.id)})
    assert revoked.status_code == 302
    assert ShareGrant.objects.get(pk=grant.id).status == GrantStatus.REVOKED


def test_staff_cannot_share_without_the_clients_consent(world, login, partnered):
    enrolled = world.enrol()
    http = login(world.manager)
    response = http.post(f"/clients/{enrolled.client_id}/shares/", _form(partnered.partner))
    assert response.status_code == 422
    assert "尚未同意" in response.content.decode()
    assert not ShareGrant.objects.filter(client_id=enrolled.client_id).exists()


@pytest.mark.parametrize("who", ["manager_b", "outsider", "admin", "auditor", "analyst", "nurse"])
def test_others_are_refused_the_share_page_and_it_is_ledgered(world, login, shared, who):
    enrolled, _grant = shared
    user = getattr(world, who)
    http = login(user)
    before = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
    assert http.get(f"/clients/{enrolled.client_id}/shares/").status_code == 403
    after = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
    assert after == before + 1


def test_a_client_shares_from_the_portal_confirmed_by_sms_code(
    world, shared, partnered, share_text, sign_in, outbox, client
):
    enrolled, _grant = shared
    p = sign_in("13912340000")
    page = p.http.get("/portal/shares/")
    assert page.status_code == 200 and "与其他机构共享" in page.content.decode()
    with p.capture(execute=True):
        started = p.http.post("/portal/shares/", _form(partnered.partner))
    assert started.status_code == 302 and "/portal/shares/confirm/?grant=" in started["Location"]
    pending = ShareGrant.objects.get(client_id=enrolled.client_id, status=GrantStatus.PENDING)
    assert pending.code_hash and len(pending.code_hash) == 64
    confirm_url = started["Location"]
    wrong = p.http.post(confirm_url, {"code": "000000"})
    assert wrong.status_code == 422
    code = sent_codes(outbox)[-1]
    assert code not in pending.code_hash
    done = p.http.post(confirm_url, {"code": code})
    assert done.status_code == 302
    pending.refresh_from_db()
    assert pending.status == GrantStatus.ACTIVE and pending.code_hash == ""
    # The partner fetches; the client sees it in "who looked at my record", by name.
    fetched = client.get(
        f"/fhir/R4/$share/{pending.id}", HTTP_AUTHORIZATION=f"Bearer {token(client, partnered)}"
    )
    assert fetched.status_code == 200
    log = p.http.get("/portal/access-log/").content.decode()
    assert partnered.partner.name in log and "合作机构" in log
    shares = p.http.get("/portal/shares/").content.decode()
    assert "已签名的共享包" in shares
    revoked = p.http.post("/portal/shares/", {"op": "revoke", "grant": str(pending.id)})
    assert revoked.status_code == 302
    assert ShareGrant.objects.get(pk=pending.id).status == GrantStatus.REVOKED


def test_portal_cannot_revoke_someone_elses_share(world, shared, sign_in, outbox):
    _enrolled, grant = shared
    world.enrol(name="司马青衫", phone="13800001111")
    p = sign_in("13800001111")
    response = p.http.post("/portal/shares/", {"op": "revoke", "grant": str(grant.id)})
    assert response.status_code == 404
    assert ShareGrant.objects.get(pk=grant.id).status == GrantStatus.ACTIVE


def test_the_admin_registers_and_deactivates_partners(world, login):
    http = login(world.admin)
    assert http.get("/config/partners/").status_code == 200
    response = http.post(
        "/config/partners/",
        {"op": "create", "name": "市第一人民医院", "code": "H-01", "scopes": ["system/*.read"]},
    )
    assert response.status_code == 200
    text = response.content.decode()
    partner = Partner.objects.get(code="H-01")
    assert partner.application.client_id in text and 'id="client-secret"' in text
    # The secret is stored hashed (django-oauth-toolkit), never as shown.
    secret = text.split('id="client-secret">')[1].split("<")[0]
    assert secret not in partner.application.client_secret
    assert (
        http.post("/config/partners/", {"op": "deactivate", "partner": str(partner.id)}).status_code
        == 302
    )
    assert not Partner.objects.get(pk=partner.id).is_active


@pytest.mark.parametrize("who", ["manager", "doctor", "auditor", "outsider"])
def test_only_the_admin_reaches_the_partner_page(world, login, who):
    assert login(getattr(world, who)).get("/config/partners/").status_code == 403
