"""Who may read and write the health record: the care team (nurses read only), break-glass reads
ledgered as emergencies, and everyone else refused with the refusal in the ledger."""

from __future__ import annotations

import json

import pytest

from careledger.access.enforce import AccessDenied
from careledger.audit.services import do_open_break_glass
from careledger.ledger.models import LedgerEntry
from careledger.records.selectors import editable_entry, entry_history, health_record
from careledger.records.services import do_add_entry, do_retract_entry, do_update_entry
from records.conftest import VALID

pytestmark = pytest.mark.django_db

OUTSIDERS = ["outsider", "manager_b", "admin", "auditor", "analyst"]


def denials(user, member) -> int:  # type: ignore[no-untyped-def]
    return LedgerEntry.objects.filter(
        actor_id=str(user.id), outcome="denied", client_id=str(member.id)
    ).count()


def add_condition(actor, member):  # type: ignore[no-untyped-def]
    return do_add_entry(
        actor=actor, client_id=member.id, section="conditions", data=VALID["conditions"]
    )


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse"])
def test_the_care_team_reads_the_record_in_one_ledgered_event(world, member, who):
    add_condition(world.manager, member)
    user = getattr(world, who)
    before = LedgerEntry.objects.count()
    record = health_record(user, member.id)
    assert [e.values["code"] for e in record.entries["conditions"]] == ["I10"]
    assert record.entries["conditions"][0].values["note"] == VALID["conditions"]["note"]
    events = LedgerEntry.objects.filter(seq__gte=before)
    assert [(e.action, e.client_id) for e in events] == [("record.view", str(member.id))]
    assert json.loads(events[0].leaf)["purpose"] == "care"


def test_the_nurse_reads_clinical_content_but_sees_the_name_masked(world, member):
    add_condition(world.manager, member)
    record = health_record(world.nurse, member.id)
    assert record.client.masked and record.client.name == "欧**月"
    assert record.entries["conditions"][0].values["note"] == VALID["conditions"]["note"]
    assert health_record(world.doctor, member.id).client.name == "欧阳明月"


@pytest.mark.parametrize("who", ["manager", "doctor"])
def test_managers_and_doctors_write(world, member, who):
    saved = add_condition(getattr(world, who), member)
    assert saved.version == 1


def test_the_nurse_may_not_write_and_the_refusal_is_ledgered(world, member):
    saved = add_condition(world.manager, member)
    attempts = [
        lambda: add_condition(world.nurse, member),
        lambda: do_update_entry(
            actor=world.nurse,
            client_id=member.id,
            section="conditions",
            entry_id=saved.id,
            data=VALID["conditions"],
        ),
        lambda: do_retract_entry(
            actor=world.nurse,
            client_id=member.id,
            section="conditions",
            entry_id=saved.id,
            reason="不是我录的",
        ),
        lambda: editable_entry(world.nurse, member.id, "conditions", saved.id),
    ]
    for attempt in attempts:
        before = denials(world.nurse, member)
        with pytest.raises(AccessDenied):
            attempt()
        assert denials(world.nurse, member) == before + 1
    last = LedgerEntry.objects.filter(actor_id=str(world.nurse.id), outcome="denied").last()
    assert last.action == "record.update"
    assert json.loads(last.leaf)["detail"] == {"reason": "role_lacks_permission"}


@pytest.mark.parametrize("who", OUTSIDERS)
def test_everyone_else_is_refused_reading_and_writing_with_ledgered_denials(world, member, who):
    saved = add_condition(world.manager, member)
    user = getattr(world, who)
    for attempt in (
        lambda: health_record(user, member.id),
        lambda: entry_history(user, member.id),
        lambda: entry_history(user, member.id, entry_id=saved.id),
        lambda: add_condition(user, member),
        lambda: do_retract_entry(
            actor=user,
            client_id=member.id,
            section="conditions",
            entry_id=saved.id,
            reason="试图撤销",
        ),
    ):
        before = denials(user, member)
        with pytest.raises(AccessDenied):
            attempt()
        assert denials(user, member) == before + 1, who


def test_a_break_glass_read_is_allowed_ledgered_as_emergency_and_never_a_write(world, member):
    add_condition(world.manager, member)
    with pytest.raises(AccessDenied):
        health_record(world.manager_b, member.id)
    do_open_break_glass(
        actor=world.manager_b,
        client_id=member.id,
        reason="客户在B组前台晕倒，查看过敏史",
        minutes=30,
    )
    record = health_record(world.manager_b, member.id)
    assert record.emergency and record.entries["conditions"]
    event = LedgerEntry.objects.filter(
        actor_id=str(world.manager_b.id), action="record.view"
    ).last()
    assert event.outcome == "allowed" and json.loads(event.leaf)["purpose"] == "emergency"
    assert entry_history(world.manager_b, member.id)
    history_event = LedgerEntry.objects.filter(
        actor_id=str(world.manager_b.id), action="record.history"
    ).last()
    assert json.loads(history_event.leaf)["purpose"] == "emergency"
    with pytest.raises(AccessDenied):
        add_condition(world.manager_b, member)


def test_history_shows_who_changed_what_and_when(world, member):
    saved = add_condition(world.manager, member)
    do_update_entry(
        actor=world.doctor,
        client_id=member.id,
        section="conditions",
        entry_id=saved.id,
        data={**VALID["conditions"], "onset": "2014"},
        reason="患者回忆更早",
    )
    rows = entry_history(world.nurse, member.id, entry_id=saved.id)
    assert [(r.version, r.changed_by) for r in rows] == [(2, "doctor"), (1, "manager")]
    assert rows[0].changed_fields == ("onset",) and rows[0].reason == "患者回忆更早"
    assert rows[1].values["onset"] == "2015-06" and rows[0].values["onset"] == "2014"
    assert rows[0].code_name == "原发性高血压" or rows[0].code_name.startswith("Essential")
