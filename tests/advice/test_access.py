"""Who may read and issue a client's advice: the care team reads (the nurse too, name masked),
the health manager and doctor issue; a break-glass read is allowed and ledgered as an emergency
but never issues; everyone else is refused, each refusal in the ledger."""

from __future__ import annotations

import json

import pytest

from careledger.access.enforce import AccessDenied
from careledger.advice.models import AdviceSheet
from careledger.advice.selectors import advice_sheet, issued_sheet, latest_issued_sheet
from careledger.advice.services import do_issue_sheet
from careledger.audit.services import do_open_break_glass
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

OUTSIDERS = ["outsider", "manager_b", "admin", "auditor", "analyst"]


def denials(user, member) -> int:  # type: ignore[no-untyped-def]
    return LedgerEntry.objects.filter(
        actor_id=str(user.id), outcome="denied", client_id=str(member.id)
    ).count()


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse"])
def test_the_care_team_reads_the_advice(world, member, who):
    sheet = do_issue_sheet(actor=world.manager, client_id=member.id, note="坚持每天快走")
    user = getattr(world, who)
    page = advice_sheet(user, member.id)
    assert page.sheet.general and [s.id for s in page.issued] == [sheet.id]
    shown = issued_sheet(user, member.id, sheet.id)
    assert shown.note == "坚持每天快走"
    event = LedgerEntry.objects.filter(actor_id=str(user.id), action="advice.view").last()
    assert event.outcome == "allowed" and json.loads(event.leaf)["purpose"] == "care"


def test_the_nurse_sees_the_name_masked(world, member):
    assert advice_sheet(world.nurse, member.id).client.name == "欧**月"
    assert advice_sheet(world.doctor, member.id).client.name == "欧阳明月"


@pytest.mark.parametrize("who", ["manager", "doctor"])
def test_managers_and_doctors_issue(world, member, who):
    sheet = do_issue_sheet(actor=getattr(world, who), client_id=member.id)
    assert sheet.issued_by == getattr(world, who)


def test_the_nurse_may_not_issue_and_the_refusal_is_ledgered(world, member):
    before = denials(world.nurse, member)
    with pytest.raises(AccessDenied):
        do_issue_sheet(actor=world.nurse, client_id=member.id, note="护士想开")
    assert denials(world.nurse, member) == before + 1
    last = LedgerEntry.objects.filter(actor_id=str(world.nurse.id), outcome="denied").last()
    assert last.action == "advice.issue"
    assert json.loads(last.leaf)["detail"] == {"reason": "role_lacks_permission"}
    assert not AdviceSheet.objects.exists()


@pytest.mark.parametrize("who", OUTSIDERS)
def test_everyone_else_is_refused_reading_and_issuing_with_ledgered_denials(world, member, who):
    sheet = do_issue_sheet(actor=world.manager, client_id=member.id)
    user = getattr(world, who)
    for attempt in (
        lambda: advice_sheet(user, member.id),
        lambda: issued_sheet(user, member.id, sheet.id),
        lambda: latest_issued_sheet(user, member.id),
        lambda: do_issue_sheet(actor=user, client_id=member.id),
    ):
        before = denials(user, member)
        with pytest.raises(AccessDenied):
            attempt()
        assert denials(user, member) == before + 1, who
    assert AdviceSheet.objects.count() == 1


def test_a_portal_client_is_refused_the_staff_side_advice_even_their_own(world, member):
    from careledger.portal.services import _portal_user

    own = _portal_user(member)
    with pytest.raises(AccessDenied):
        advice_sheet(own, member.id)
    assert denials(own, member) == 1


def test_a_break_glass_read_is_an_emergency_and_never_an_issue(world, member):
    sheet = do_issue_sheet(actor=world.manager, client_id=member.id)
    do_open_break_glass(
        actor=world.manager_b,
        client_id=member.id,
        reason="客户在B组前台晕倒，查看健康建议",
        minutes=30,
    )
    page = advice_sheet(world.manager_b, member.id)
    assert page.emergency
    issued_sheet(world.manager_b, member.id, sheet.id)
    events = LedgerEntry.objects.filter(
        actor_id=str(world.manager_b.id), outcome="allowed", action__startswith="advice."
    )
    assert [json.loads(e.leaf)["purpose"] for e in events] == ["emergency", "emergency"]
    with pytest.raises(AccessDenied):
        do_issue_sheet(actor=world.manager_b, client_id=member.id)
