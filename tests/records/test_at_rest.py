"""Invariants 3 and 4 for the record: free text is ciphertext in the database (and absent from
the ledger and the logs), and a record row or revision changed behind the application's back is
reported by `ledger verify`."""

from __future__ import annotations

import logging

import pytest
from django.db import connection

from careledger.ledger.verify import verify
from careledger.records.models import ConditionEntry, EntryRevision, MedicationEntry
from careledger.records.selectors import entry_history, health_record
from careledger.records.services import do_add_entry, do_retract_entry, do_update_entry
from records.conftest import VALID
from test_no_plaintext_at_rest import dump_database

pytestmark = pytest.mark.django_db

FREE_TEXT = [
    VALID["conditions"]["note"],
    VALID["medications"]["drug_name"],
    VALID["allergies"]["substance"],
    VALID["allergies"]["reaction"],
    VALID["surgeries"]["name"],
    VALID["surgeries"]["hospital"],
    VALID["lifestyle"]["note"],
    "录入到了错误的客户",  # a retraction reason
    "复诊后更新病情",  # an edit reason
]


def write_everything(world, member) -> None:  # type: ignore[no-untyped-def]
    saved = {
        section: do_add_entry(actor=world.manager, client_id=member.id, section=section, data=data)
        for section, data in VALID.items()
    }
    do_update_entry(
        actor=world.manager,
        client_id=member.id,
        section="conditions",
        entry_id=saved["conditions"].id,
        data={**VALID["conditions"], "clinical_status": "remission"},
        reason="复诊后更新病情",
    )
    do_retract_entry(
        actor=world.manager,
        client_id=member.id,
        section="allergies",
        entry_id=saved["allergies"].id,
        reason="录入到了错误的客户",
    )


def test_free_text_is_ciphertext_in_every_table_and_nowhere_in_logs(world, member, caplog):
    caplog.set_level(logging.DEBUG)
    write_everything(world, member)
    health_record(world.manager, member.id)
    entry_history(world.manager, member.id)
    dump = dump_database()
    assert "records_conditionentry" in connection.introspection.table_names()
    for text in FREE_TEXT:
        assert text not in dump, f"plaintext in the database: {text[:2]}…"
        assert text.encode().hex() not in dump
        assert text not in caplog.text
    # Coded data stays clear (pseudonymous, queryable), and the sealed text reads back.
    assert ConditionEntry.objects.filter(client=member, code="I10").exists()
    medication = MedicationEntry.objects.get(client=member)
    assert medication.drug_name == VALID["medications"]["drug_name"]


def test_verify_passes_after_the_writes_and_names_a_row_changed_behind_the_back(world, member):
    write_everything(world, member)
    assert verify().ok
    entry = ConditionEntry.objects.get(client=member)
    ConditionEntry.objects.filter(pk=entry.pk).update(code="I11")
    problems = verify().problems
    assert any("records_conditionentry" in p and str(entry.pk) in p for p in problems), problems


def test_verify_names_a_rewritten_history(world, member):
    write_everything(world, member)
    first = EntryRevision.objects.filter(section="conditions").order_by("version").first()
    EntryRevision.objects.filter(pk=first.pk).update(changed_fields=["nothing"])
    problems = verify().problems
    assert any("records_entryrevision" in p and str(first.pk) in p for p in problems), problems


def test_verify_names_a_deleted_entry(world, member):
    write_everything(world, member)
    entry = MedicationEntry.objects.get(client=member)
    key = MedicationEntry._meta.pk.get_db_prep_value(entry.pk, connection)
    with connection.cursor() as cursor:  # a DELETE that no service wrote
        cursor.execute("DELETE FROM records_medicationentry WHERE id = %s", [key])
    assert not MedicationEntry.objects.filter(pk=entry.pk).exists()
    problems = verify().problems
    assert any("records_medicationentry" in p and str(entry.pk) in p for p in problems), problems
