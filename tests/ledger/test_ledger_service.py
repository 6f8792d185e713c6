"""The audit ledger: every access appends a leaf, the head's root is the RFC 9162 root of all
leaves, leaves carry no personal data, and `ledger verify` catches edits behind our back."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db import connection

from careledger.access.enforce import AccessDenied
from careledger.clients.selectors import get_client, list_clients, search_clients
from careledger.ledger import merkle
from careledger.ledger import services as ledger
from careledger.ledger.models import LedgerEntry, LedgerHead
from careledger.ledger.verify import verify

pytestmark = pytest.mark.django_db


def test_head_root_is_the_merkle_root_of_every_leaf(world):
    for _ in range(3):
        world.enrol()
    hashes = [bytes.fromhex(h) for h in LedgerEntry.objects.values_list("leaf_hash", flat=True)]
    head = LedgerHead.objects.get()
    assert head.size == len(hashes) == LedgerEntry.objects.count()
    assert head.root == merkle.root_from_leaf_hashes(hashes).hex()
    assert list(LedgerEntry.objects.values_list("seq", flat=True)) == list(range(len(hashes)))


def test_reads_searches_and_lists_are_ledgered_per_client(world):
    enrolled = world.enrol(phone="13900005555")
    cid = str(enrolled.client_id)
    get_client(world.doctor, enrolled.client_id)
    search_clients(world.nurse, "13900005555")
    list_clients(world.manager)
    actions = list(LedgerEntry.objects.filter(client_id=cid).values_list("action", "actor_id"))
    assert ("client.view", str(world.doctor.id)) in actions
    assert ("client.search", str(world.nurse.id)) in actions
    assert ("client.list", str(world.manager.id)) in actions


def test_leaves_hold_ids_and_hashes_never_identifiers(world):
    world.enrol(name="欧阳明月", phone="13900006666")
    search_clients(world.manager, "欧阳明月")
    search_clients(world.manager, "13900006666")
    text = " ".join(LedgerEntry.objects.values_list("leaf", flat=True))
    assert "欧阳明月" not in text and "13900006666" not in text
    leaf = json.loads(LedgerEntry.objects.filter(action="client.search").first().leaf)
    assert leaf["detail"]["kind"] in {"name", "phone"}
    assert (
        merkle.canonical_json(leaf).decode()
        == LedgerEntry.objects.filter(action="client.search").first().leaf
    )


def test_denials_are_committed_although_the_work_is_refused(world):
    enrolled = world.enrol()
    with pytest.raises(AccessDenied):
        get_client(world.manager_b, enrolled.client_id)
    denied = LedgerEntry.objects.get(outcome="denied")
    assert denied.actor_id == str(world.manager_b.id)
    assert json.loads(denied.leaf)["detail"]["reason"] == "not_in_care_team"


def test_verify_passes_on_an_untouched_ledger(world, capsys):
    world.enrol()
    call_command("ledger", "verify")
    assert "ledger verified" in capsys.readouterr().out


@pytest.mark.parametrize("attack", ["edit", "delete", "swap", "insert"])
def test_verify_reports_tampering_behind_the_applications_back(world, attack):
    for _ in range(3):
        world.enrol()
    assert verify().ok
    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        if attack == "edit":
            cursor.execute(
                f"UPDATE {table} SET leaf = REPLACE(leaf, 'allowed', 'denied') WHERE seq = 1"
            )
        elif attack == "delete":
            cursor.execute(f"DELETE FROM {table} WHERE seq = 1")
        elif attack == "swap":
            rows = list(LedgerEntry.objects.filter(seq__in=[0, 1]).order_by("seq"))
            for row, other in ((rows[0], rows[1]), (rows[1], rows[0])):
                cursor.execute(
                    f"UPDATE {table} SET leaf = %s, leaf_hash = %s WHERE seq = %s",
                    [other.leaf, other.leaf_hash, row.seq],
                )
        else:
            size = LedgerHead.objects.get().size
            forged = merkle.canonical_json({"action": "forged"})
            cursor.execute(
                f"INSERT INTO {table} (seq, leaf, leaf_hash, recorded_at, action, outcome, "
                "actor_id, institution_id, client_id) "
                "VALUES (%s, %s, %s, CURRENT_TIMESTAMP, 'x', 'allowed', '', '', '')",
                [size, forged.decode(), merkle.leaf_hash(forged).hex()],
            )
    report = verify()
    assert not report.ok, attack
    with pytest.raises(SystemExit):
        call_command("ledger", "verify")


def test_record_many_appends_in_order_under_one_head_update(world):
    before = LedgerHead.objects.filter(pk=1).first()
    start = before.size if before else 0
    entries = ledger.record_many(
        actor=ledger.SYSTEM, action="test.batch", client_ids=["a", "b", "c"]
    )
    assert [e.seq for e in entries] == [start, start + 1, start + 2]
    assert verify().ok
