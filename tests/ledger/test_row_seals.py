"""Row seals as a first-class mechanism: `record(..., sealed=[row])` commits each written row's
digest in the leaf and keeps the `RowSeal` index (latest per row) in the same transaction;
deletions are sealed too; re-encryption re-seals; the digest is the same from the saved instance
and from the row read back, on either database."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from careledger.clients.models import Client
from careledger.clients.services import current_input, do_update_client
from careledger.crypto import keyring
from careledger.crypto.models import KeyScope
from careledger.crypto.reencrypt import reencrypt_all
from careledger.ledger import services as ledger
from careledger.ledger.models import LedgerEntry, RowSeal
from careledger.ledger.rows import row_digest
from careledger.ledger.verify import verify

pytestmark = pytest.mark.django_db


def seal_of(client_id) -> RowSeal:  # type: ignore[no-untyped-def]
    return RowSeal.objects.get(table="clients_client", row_id=str(client_id))


def test_enrolment_seals_each_client_row_in_its_own_event(world):
    enrolled = world.enrol()
    client = Client.objects.get(pk=enrolled.client_id)
    seal = seal_of(client.id)
    entry = LedgerEntry.objects.get(seq=seal.seq)
    leaf = json.loads(entry.leaf)
    assert entry.action == "client.enrol" and entry.client_id == str(client.id)
    assert leaf["seals"] == [
        {"table": "clients_client", "id": str(client.id), "digest": row_digest(client)}
    ]
    assert seal.digest == row_digest(client)
    assert "row_digest" not in leaf["detail"]


def test_an_edit_moves_the_seal_to_the_edits_entry(world):
    enrolled = world.enrol()
    before = seal_of(enrolled.client_id)
    client = Client.objects.get(pk=enrolled.client_id)
    data = current_input(client)
    data.address = "上海市黄浦区南京东路1号"
    do_update_client(actor=world.manager, client_id=client.id, data=data)
    after = seal_of(client.id)
    assert after.seq > before.seq and after.digest != before.digest
    assert LedgerEntry.objects.get(seq=after.seq).action == "client.update"
    assert after.digest == row_digest(Client.objects.get(pk=client.id))
    assert RowSeal.objects.filter(row_id=str(client.id)).count() == 1
    assert verify().ok


def test_the_digest_of_a_saved_row_equals_that_of_the_row_read_back(world):
    enrolled = world.enrol()
    fresh = Client.objects.get(pk=enrolled.client_id)
    fresh.status = "inactive"
    fresh.save()
    in_memory = row_digest(fresh)
    assert in_memory == row_digest(Client.objects.get(pk=fresh.pk))


def test_a_row_with_plaintext_still_in_it_cannot_be_sealed(world):
    enrolled = world.enrol()
    client = Client.objects.get(pk=enrolled.client_id)
    client.address = "未保存的地址"
    with pytest.raises(ValueError, match="seal rows after saving"):
        ledger.record(actor=ledger.SYSTEM, action="test.seal", sealed=[client])


def test_a_sealed_deletion_is_accepted_and_a_row_that_survives_it_is_not(world):
    enrolled = world.enrol()
    client = Client.objects.get(pk=enrolled.client_id)
    with transaction.atomic():
        ledger.record(actor=ledger.SYSTEM, action="test.erase", deleted=[client])
    assert seal_of(client.id).digest == ""
    report = verify()
    assert any("recorded its deletion" in p for p in report.problems), report.problems
    client.delete()
    assert verify().ok


def test_record_many_seals_per_event_and_keeps_the_latest_per_row(world):
    a = Client.objects.get(pk=world.enrol().client_id)
    b = Client.objects.get(pk=world.enrol().client_id)
    entries = ledger.record_many(
        actor=ledger.SYSTEM,
        action="test.batch",
        client_ids=[str(a.id), str(b.id), str(a.id)],
        sealed=[[a], [b], [a]],
    )
    assert seal_of(a.id).seq == entries[2].seq
    assert seal_of(b.id).seq == entries[1].seq
    assert verify().ok


def test_already_sealed_picks_only_rows_with_a_live_seal(world):
    a = Client.objects.get(pk=world.enrol().client_id)
    b = Client.objects.get(pk=world.enrol().client_id)
    RowSeal.objects.filter(row_id=str(b.id)).delete()
    assert ledger.already_sealed([a, b]) == [a]
    assert ledger.already_sealed([]) == []


def test_reencryption_after_key_rotation_reseals_so_verify_stays_clean(world):
    ids = [world.enrol().client_id for _ in range(3)]
    old = {i: seal_of(i).digest for i in ids}
    for client_id in ids:
        keyring.add_version(KeyScope.CLIENT, client_id)
    assert reencrypt_all() >= 3
    assert all(seal_of(i).digest != old[i] for i in ids)
    assert LedgerEntry.objects.filter(action="keys.reencrypt.batch").exists()
    report = verify()
    assert report.ok, report.problems
