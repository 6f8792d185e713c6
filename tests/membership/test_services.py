"""Entitlements through the services: the admin's level table (validated, ledgered), uses
and reversals on the card year with balances, idempotency by reference, and who may do what."""

from __future__ import annotations

import pytest

from careledger.access.enforce import AccessDenied
from careledger.clients.models import Client, MembershipCard
from careledger.ledger.models import LedgerEntry
from careledger.membership import selectors, services
from careledger.membership.entitlements import NotEntitled
from careledger.membership.models import EntitlementUse

pytestmark = pytest.mark.django_db


@pytest.fixture
def gold(world):  # type: ignore[no-untyped-def]
    services.do_set_level_table(
        actor=world.admin, data={"gold": {"consultation": 2, "follow_up": 12}}
    )
    return Client.objects.get(pk=world.enrol(membership_level="gold").client_id)


def left(world, client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {b.kind: b.left for b in selectors.client_membership(world.manager, client.id).balances}


def test_the_admin_sets_levels_with_every_error_at_once(world):
    with pytest.raises(services.BadEntitlementInput) as caught:
        services.do_set_level_table(
            actor=world.admin,
            data={"gold": {"consultation": "-1", "massage": 1, "follow_up": "x"}, "tin": {}},
        )
    assert caught.value.errors == {
        "gold.consultation": "out_of_range",
        "gold.massage": "unknown_kind",
        "gold.follow_up": "not_a_whole_number",
        "tin": "unknown_level",
    }
    changed = services.do_set_level_table(actor=world.admin, data={"gold": {"consultation": 4}})
    assert len(changed) == 1
    assert services.do_set_level_table(actor=world.admin, data={"gold": {"consultation": 4}}) == []
    assert LedgerEntry.objects.filter(action="membership.entitlement.set").count() == 1
    table = selectors.level_table(world.admin)
    assert table.quantities["gold"]["consultation"] == 4


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "auditor", "analyst"])
def test_only_the_admin_configures_levels(world, who):
    with pytest.raises(AccessDenied):
        services.do_set_level_table(actor=getattr(world, who), data={"gold": {"consultation": 1}})


def test_uses_count_down_and_the_last_one_goes_once(world, gold):
    assert left(world, gold) == {"consultation": 2, "follow_up": 12}
    services.do_redeem(actor=world.doctor, client_id=gold.id, kind="consultation")
    services.do_redeem(actor=world.nurse, client_id=gold.id, kind="consultation")
    with pytest.raises(NotEntitled, match="exhausted"):
        services.do_redeem(actor=world.doctor, client_id=gold.id, kind="consultation")
    with pytest.raises(NotEntitled, match="not_entitled"):
        services.do_redeem(actor=world.doctor, client_id=gold.id, kind="nutrition")
    assert LedgerEntry.objects.filter(action="membership.redeem", outcome="failed").count() == 2
    assert left(world, gold)["consultation"] == 0


def test_a_reversal_gives_the_use_back_once(world, gold):
    use = services.do_redeem(
        actor=world.doctor, client_id=gold.id, kind="consultation", note="复诊"
    )
    services.do_reverse(actor=world.manager, client_id=gold.id, use_id=use.use_id)
    assert left(world, gold)["consultation"] == 2
    with pytest.raises(NotEntitled, match="already_reversed"):
        services.do_reverse(actor=world.manager, client_id=gold.id, use_id=use.use_id)
    history = selectors.client_membership(world.manager, gold.id).history
    assert [row.entry for row in history] == ["reversal", "use"]


def test_redeeming_twice_for_the_same_reference_writes_one_use(world, gold):
    first = services.redeem_within(
        client=gold, kind="follow_up", reference="appointment:1", actor=services.ledger.SYSTEM
    )
    again = services.redeem_within(
        client=gold, kind="follow_up", reference="appointment:1", actor=services.ledger.SYSTEM
    )
    assert again.already and again.use_id == first.use_id
    assert EntitlementUse.objects.filter(client=gold).count() == 1


def test_an_expired_or_missing_card_is_not_entitled(world, gold):
    import datetime as dt

    MembershipCard.objects.filter(client=gold).update(expires_on=dt.date(2000, 1, 1))
    with pytest.raises(NotEntitled, match="card_expired"):
        services.do_redeem(actor=world.doctor, client_id=gold.id, kind="consultation")
    view = selectors.client_membership(world.manager, gold.id)
    assert view.problem == "card_expired" and view.balances == ()


@pytest.mark.parametrize("who", ["admin", "auditor", "analyst", "manager_b", "outsider"])
def test_outside_the_care_team_nobody_sees_or_uses_entitlements(world, gold, who):
    user = getattr(world, who)
    with pytest.raises(AccessDenied):
        selectors.client_membership(user, gold.id)
    with pytest.raises(AccessDenied):
        services.do_redeem(actor=user, client_id=gold.id, kind="consultation")
    assert LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count() == 2


def test_the_note_is_sealed(world, gold):
    from django.db import connection

    services.do_redeem(
        actor=world.doctor, client_id=gold.id, kind="consultation", note="膝关节复诊"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM membership_entitlementuse")
        assert "膝关节" not in cursor.fetchone()[0]


def test_the_staff_page_shows_balances_and_uses_one(world, gold, login):
    http = login(world.doctor)
    url = f"/clients/{gold.id}/membership/"
    page = http.get(url).content.decode()
    assert "健康咨询" in page and 'data-kind="consultation"' in page
    http.post(url, {"op": "redeem", "kind": "consultation"})
    assert left(world, gold)["consultation"] == 1
    refused = http.post(url, {"op": "redeem", "kind": "nutrition"}, follow=True)
    assert "会员卡不含此项权益" in refused.content.decode()
    assert login(world.admin).get(url).status_code == 403
