"""Break-glass end to end: the offer, step-up, the grant, reads under it, expiry, the alert and
the auditor's sign-off; and everyone who may not."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from careledger.access.models import BreakGlassGrant, ReviewStatus
from careledger.accounts import session_rules
from careledger.audit.models import Alert, AlertStatus
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

REASON = "患者在前台晕倒，需查看过敏史和用药"


def fresh_mfa(http) -> None:  # type: ignore[no-untyped-def]
    session = http.session
    session[session_rules.MFA_AT] = time.time()
    session.save()


@pytest.fixture
def target(world):  # type: ignore[no-untyped-def]
    """A client of team A; manager_b (team B) is the clinician outside the care team."""
    return world.enrol(name="欧阳明月")


def open_grant(http, client_id, reason=REASON, minutes=30):  # type: ignore[no-untyped-def]
    return http.post(f"/clients/{client_id}/break-glass/", {"reason": reason, "minutes": minutes})


def test_outside_the_team_the_profile_offers_emergency_access_and_records_the_refusal(
    world, target, login
):
    http = login(world.manager_b)
    response = http.get(f"/clients/{target.client_id}/")
    assert response.status_code == 403
    body = response.content.decode()
    assert f"/clients/{target.client_id}/break-glass/" in body
    assert "欧阳明月" not in body
    denial = LedgerEntry.objects.filter(actor_id=str(world.manager_b.id), outcome="denied").last()
    assert denial.client_id == str(target.client_id)


def test_emergency_access_needs_a_fresh_mfa_code_first(world, target, login):
    http = login(world.manager_b)
    session = http.session
    session[session_rules.MFA_AT] = time.time() - 3600  # signed in with MFA an hour ago
    session.save()
    response = http.get(f"/clients/{target.client_id}/break-glass/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/step-up/")
    assert not BreakGlassGrant.objects.exists()
    assert open_grant(http, target.client_id).status_code == 302
    assert not BreakGlassGrant.objects.exists()


def test_a_reason_is_required(world, target, login):
    http = login(world.manager_b)
    fresh_mfa(http)
    response = open_grant(http, target.client_id, reason="看看")
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not BreakGlassGrant.objects.exists()


def test_only_offered_durations_are_accepted(world, target, login):
    http = login(world.manager_b)
    fresh_mfa(http)
    response = open_grant(http, target.client_id, minutes=100000)
    assert "minutes" in response.context["form"].errors
    assert not BreakGlassGrant.objects.exists()


def test_the_grant_opens_the_record_read_only_ledgered_as_emergency_with_an_alert(
    world, target, login
):
    http = login(world.manager_b)
    fresh_mfa(http)
    response = open_grant(http, target.client_id)
    assert response.status_code == 302
    grant = BreakGlassGrant.objects.get()
    assert grant.user == world.manager_b and grant.client_id == target.client_id
    assert grant.reason == REASON and grant.review_status == ReviewStatus.PENDING
    assert (grant.expires_at - grant.granted_at) == dt.timedelta(minutes=30)

    page = http.get(f"/clients/{target.client_id}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "欧阳明月" in body and 'id="emergency-banner"' in body
    assert f"/clients/{target.client_id}/edit/" not in body

    view = LedgerEntry.objects.filter(
        actor_id=str(world.manager_b.id), action="client.view", outcome="allowed"
    ).last()
    assert '"purpose":"emergency"' in view.leaf
    opened = LedgerEntry.objects.get(action="access.break_glass")
    assert opened.client_id == str(target.client_id)
    assert REASON not in opened.leaf  # the reason is sealed, never in the ledger

    alert = Alert.objects.get(rule="break_glass")
    assert alert.severity == "high" and alert.subject_user == world.manager_b

    # Reading, never editing.
    assert http.get(f"/clients/{target.client_id}/edit/").status_code == 403


def test_the_grant_ends_when_it_expires(world, target, login):
    http = login(world.manager_b)
    fresh_mfa(http)
    open_grant(http, target.client_id)
    BreakGlassGrant.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert http.get(f"/clients/{target.client_id}/").status_code == 403


def test_the_grant_reaches_only_its_own_client(world, target, login):
    other = world.enrol(name="另一位")
    http = login(world.manager_b)
    fresh_mfa(http)
    open_grant(http, target.client_id)
    assert http.get(f"/clients/{other.client_id}/").status_code == 403


@pytest.mark.parametrize("who", ["admin", "auditor", "analyst"])
def test_non_clinical_roles_get_no_offer_and_cannot_break_glass(world, target, login, who):
    http = login(getattr(world, who))
    fresh_mfa(http)
    page = http.get(f"/clients/{target.client_id}/")
    assert page.status_code == 403
    assert f"/clients/{target.client_id}/break-glass/" not in page.content.decode()
    assert open_grant(http, target.client_id).status_code == 403
    assert not BreakGlassGrant.objects.exists()


def test_no_break_glass_into_another_institution(world, target, login):
    http = login(world.outsider)
    fresh_mfa(http)
    assert open_grant(http, target.client_id).status_code == 403
    assert not BreakGlassGrant.objects.exists()
    denial = LedgerEntry.objects.filter(actor_id=str(world.outsider.id)).last()
    assert denial.outcome == "denied" and '"reason":"other_institution"' in denial.leaf


def test_the_care_team_is_sent_straight_to_the_record(world, target, login):
    http = login(world.manager)
    response = http.get(f"/clients/{target.client_id}/break-glass/")
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{target.client_id}/"


def _granted(world, target, login):  # type: ignore[no-untyped-def]
    http = login(world.manager_b)
    fresh_mfa(http)
    open_grant(http, target.client_id)
    http.get(f"/clients/{target.client_id}/")
    http.logout()
    return BreakGlassGrant.objects.get()


def test_the_auditor_reviews_the_grant_with_what_was_done_under_it(world, target, login):
    grant = _granted(world, target, login)
    http = login(world.auditor)
    queue = http.get("/audit/break-glass/")
    assert queue.status_code == 200 and str(grant.id) in queue.content.decode()
    detail = http.get(f"/audit/break-glass/{grant.id}/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert REASON in body and "client.view" in body
    assert "欧阳明月" not in body  # the auditor sees ids, not the record

    response = http.post(
        f"/audit/break-glass/{grant.id}/", {"verdict": "justified", "note": "急诊，合理"}
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.review_status == "justified" and grant.reviewed_by == world.auditor
    assert Alert.objects.get(rule="break_glass").status == AlertStatus.CLOSED
    assert LedgerEntry.objects.filter(action="access.break_glass.review").exists()

    again = http.post(f"/audit/break-glass/{grant.id}/", {"verdict": "unjustified", "note": "x"})
    assert again.status_code == 200
    grant.refresh_from_db()
    assert grant.review_status == "justified"


def test_not_justified_needs_a_note(world, target, login):
    grant = _granted(world, target, login)
    http = login(world.auditor)
    response = http.post(f"/audit/break-glass/{grant.id}/", {"verdict": "unjustified"})
    assert response.status_code == 200
    grant.refresh_from_db()
    assert grant.review_status == "pending"


@pytest.mark.parametrize("who", ["manager", "manager_b", "doctor", "admin", "analyst", "outsider"])
def test_only_auditors_of_the_institution_review(world, target, login, who):
    grant = _granted(world, target, login)
    http = login(getattr(world, who))
    assert http.get("/audit/break-glass/").status_code == 403
    assert http.get(f"/audit/break-glass/{grant.id}/").status_code == 403
    response = http.post(f"/audit/break-glass/{grant.id}/", {"verdict": "justified"})
    assert response.status_code == 403
    grant.refresh_from_db()
    assert grant.review_status == "pending"


def test_an_auditor_of_another_institution_is_refused(world, target, login):
    from careledger.accounts.models import User

    grant = _granted(world, target, login)
    foreign = User.objects.create_user(
        username="auditor2", password="x" * 12, role="auditor", institution=world.other_inst
    )
    http = login(foreign)
    assert http.get(f"/audit/break-glass/{grant.id}/").status_code == 403
    assert str(grant.id) not in http.get("/audit/break-glass/").content.decode()
