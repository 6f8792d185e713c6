"""Who may read a client's tags, apply them by hand and configure rules — and who may not.
Every refusal is ledgered; the admin sees counts, never a client; nurses see tags."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.tagging.conftest import at, person, publish, run

from careledger.access.enforce import AccessDenied
from careledger.ledger.models import LedgerEntry
from careledger.tagging import config_selectors, selectors, services
from careledger.tagging.services import TagInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def tagged(world, lab):  # type: ignore[no-untyped-def]
    client = person(world, name="欧阳明月")
    lab.results(client, at(2024), {"8480-6": ("150", "mmHg")})
    tag = publish(world, "hypertension", "latest('8480-6') >= 140", name="高血压")
    run(world)
    return client, tag


def denied(user, action: str) -> int:  # type: ignore[no-untyped-def]
    return LedgerEntry.objects.filter(
        actor_id=str(user.id), outcome="denied", action=action
    ).count()


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse"])
def test_the_care_team_reads_tags_and_history_ledgered(world, tagged, who):
    client, _tag = tagged
    user = getattr(world, who)
    carried = selectors.client_tags(user, client.id)
    assert [c.code for c in carried.chips] == ["hypertension"]
    history = selectors.tag_history(user, client.id)
    assert history[0].facts == {"latest:8480-6": 150.0}
    events = LedgerEntry.objects.filter(actor_id=str(user.id), client_id=str(client.id))
    assert {"tag.view", "tag.history"} <= set(events.values_list("action", flat=True))


@pytest.mark.parametrize("who", ["outsider", "manager_b", "admin", "auditor", "analyst"])
def test_everyone_else_is_refused_the_tags_and_it_is_ledgered(world, tagged, who):
    client, _tag = tagged
    user = getattr(world, who)
    for read in (selectors.client_tags, selectors.tag_history):
        with pytest.raises(AccessDenied):
            read(user, client.id)
    assert denied(user, "tag.view") == 2


@pytest.mark.parametrize("who", ["nurse", "outsider", "manager_b", "admin", "auditor", "analyst"])
def test_only_the_care_teams_manager_and_doctor_set_tags_by_hand(world, tagged, who):
    client, tag = tagged
    user = getattr(world, who)
    with pytest.raises(AccessDenied):
        services.do_apply_manual_tag(actor=user, client_id=client.id, tag_id=tag.id, reason="x y")
    assert denied(user, "tag.apply") == 1


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "auditor", "analyst", "outsider"])
def test_only_the_institution_admin_configures_rules(world, tagged, who):
    _client, tag = tagged
    user = getattr(world, who)
    attempts = [
        lambda: services.do_create_tag(actor=user, data=TagInput("x_tag", "某标签")),
        lambda: services.do_save_draft(actor=user, tag_id=tag.id, expression="age > 1"),
        lambda: services.do_publish_rule(actor=user, rule_id=tag.rules.get().id),
        lambda: services.do_retire_rule(actor=user, rule_id=tag.rules.get().id),
        lambda: config_selectors.tag_overview(user),
        lambda: config_selectors.preview(user, tag_id=tag.id, expression="age > 1"),
    ]
    for attempt in attempts:
        with pytest.raises(AccessDenied):
            attempt()
    assert denied(user, "tag.rule.manage") == len(attempts)


def test_the_admin_of_another_institution_cannot_reach_this_ones_tags(world, tagged):
    from careledger.accounts.models import User

    _client, tag = tagged
    other_admin = User.objects.create_user(
        username="admin2",
        password="x-Correct-horse-9",
        role="institution_admin",
        institution=world.other_inst,
        display_name="admin2",
    )
    from careledger.tagging.models import TagDefinition

    with pytest.raises(TagDefinition.DoesNotExist):
        config_selectors.preview(other_admin, tag_id=tag.id, expression="age > 1")
    assert config_selectors.tag_overview(other_admin) == []


def test_the_preview_shows_counts_only_and_masks_small_cells(world, tagged):
    client, tag = tagged
    for _ in range(6):
        person(world, sex="F", birth_date=dt.date(1960, 5, 5))
    for _ in range(2):
        person(world, sex="M", birth_date=dt.date(1940, 5, 5))
    expression = "sex = 'F' and age >= 60 or age >= 80"
    result = config_selectors.preview(world.admin, tag_id=tag.id, expression=expression)
    # The tagged client (born 1970–2009) loses the tag; 6 women and 2 very old men gain it.
    assert (result.clients, result.would_carry, result.gain, result.lose) == (9, 8, 8, 1)
    cells = {(b.sex, b.band): (b.gain, b.lose) for b in result.bands}
    assert cells[("F", "60–74")] == ("6", "")
    assert cells[("M", "75+")] == ("<5", "")
    assert ("<5" in {g for g, _l in cells.values()}) and any(
        lo == "<5" for _g, lo in cells.values()
    )
    text = repr(result)
    assert "欧阳" not in text and str(client.id) not in text
    entry = LedgerEntry.objects.get(action="tag.rule.preview")
    assert entry.client_id == "" and '"gain":8' in entry.leaf
