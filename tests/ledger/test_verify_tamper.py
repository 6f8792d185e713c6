"""Invariant 4: every kind of tampering behind the application's back is reported by
`careledger ledger verify`, which exits non-zero and names the entry, head, table and row.

Each attack is made with raw SQL, as someone with database access but not the master key would
make it, on SQLite and on PostgreSQL (whichever DATABASE_URL selects)."""

from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.db import connection

from careledger.clients.models import Client
from careledger.crypto.models import SigningKey
from careledger.ledger import heads, merkle, sth
from careledger.ledger.models import (
    Cosignature,
    LedgerEntry,
    LedgerHead,
    LedgerNode,
    RowSeal,
    SignedTreeHead,
)
from careledger.ledger.verify import verify

pytestmark = pytest.mark.django_db

ENTRIES = LedgerEntry._meta.db_table
CLIENTS = Client._meta.db_table


def sql(statement: str, params: list | None = None) -> None:  # type: ignore[type-arg]
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def db_id(client: Client) -> object:
    return Client._meta.pk.get_db_prep_value(client.pk, connection)


@pytest.fixture
def scene(world):  # type: ignore[no-untyped-def]
    """Three clients, a signed head, more activity after it, and a second head."""
    clients = [Client.objects.get(pk=world.enrol().client_id) for _ in range(3)]
    heads.do_sign_head()
    world.enrol()
    heads.do_sign_head()
    report = verify()
    assert report.ok, report.problems
    return clients


def problems_after(attack) -> list[str]:  # type: ignore[no-untyped-def]
    attack()
    report = verify()
    assert not report.ok
    with pytest.raises(SystemExit) as exited:
        call_command("ledger", "verify")
    assert exited.value.code == 1
    return report.problems


def has(problems: list[str], *words: str) -> bool:
    return any(all(w in p for w in words) for p in problems)


# --- the entries -----------------------------------------------------------------------------


def test_an_edited_entry_is_named(scene):
    problems = problems_after(
        lambda: sql(f"UPDATE {ENTRIES} SET leaf = REPLACE(leaf, 'allowed', 'denied') WHERE seq = 1")
    )
    assert has(problems, "entry 1:", "does not match its hash (edited)")


def test_an_entry_edited_together_with_its_hash_is_caught_by_the_heads(scene):
    row = LedgerEntry.objects.get(seq=1)
    forged = row.leaf.replace("allowed", "denied")
    forged_hash = merkle.leaf_hash(forged.encode()).hex()
    problems = problems_after(
        lambda: sql(
            f"UPDATE {ENTRIES} SET leaf = %s, leaf_hash = %s, outcome = 'denied' WHERE seq = 1",
            [forged, forged_hash],
        )
    )
    first = SignedTreeHead.objects.order_by("size").first()
    assert has(problems, f"tree head {first.size}:", "not the root")
    assert has(problems, "ledger head:", "root")


def test_a_deleted_entry_is_named(scene):
    problems = problems_after(lambda: sql(f"DELETE FROM {ENTRIES} WHERE seq = 2"))
    assert has(problems, "entry 2:", "missing (deleted)")


def test_two_swapped_entries_are_named(scene):
    a, b = LedgerEntry.objects.get(seq=0), LedgerEntry.objects.get(seq=1)

    def swap() -> None:
        for row, other in ((a, b), (b, a)):
            sql(
                f"UPDATE {ENTRIES} SET leaf = %s, leaf_hash = %s, action = %s, "
                "actor_id = %s, institution_id = %s, client_id = %s WHERE seq = %s",
                [
                    other.leaf,
                    other.leaf_hash,
                    other.action,
                    other.actor_id,
                    other.institution_id,
                    other.client_id,
                    row.seq,
                ],
            )

    problems = problems_after(swap)
    assert has(problems, "entry 0:", "written as entry 1", "reordered")
    assert has(problems, "entry 1:", "written as entry 0", "reordered")


def test_an_inserted_entry_is_named(scene):
    size = LedgerHead.objects.get().size
    forged = merkle.canonical_json({"v": 2, "seq": size, "action": "forged", "outcome": "allowed"})

    def insert() -> None:
        sql(
            f"INSERT INTO {ENTRIES} (seq, leaf, leaf_hash, recorded_at, action, outcome, "
            "actor_id, institution_id, client_id) "
            "VALUES (%s, %s, %s, CURRENT_TIMESTAMP, 'forged', 'allowed', '', '', '')",
            [size, forged.decode(), merkle.leaf_hash(forged).hex()],
        )

    problems = problems_after(insert)
    assert has(problems, "ledger head:", f"{size + 1} found", "inserted")


def test_a_column_changed_to_hide_an_entry_from_a_client_is_named(scene):
    problems = problems_after(lambda: sql(f"UPDATE {ENTRIES} SET client_id = '' WHERE seq = 0"))
    assert has(problems, "entry 0:", "column client_id disagrees with the leaf")


# --- the head row and the tiles ----------------------------------------------------------


def test_a_rewritten_head_is_named(scene):
    problems = problems_after(
        lambda: sql("UPDATE ledger_ledgerhead SET root = %s WHERE id = 1", ["ab" * 32])
    )
    assert has(problems, "ledger head:", "root")


def test_a_head_shrunk_to_hide_the_latest_entries_is_named(scene):
    problems = problems_after(lambda: sql("UPDATE ledger_ledgerhead SET size = size - 2"))
    assert has(problems, "ledger head:", "inserted")


def test_a_tampered_tile_node_is_named(world):
    from careledger.ledger import services as ledger

    ledger.record_many(actor=ledger.SYSTEM, action="test.fill", client_ids=["x"] * 300)
    assert verify().ok
    problems = problems_after(lambda: LedgerNode.objects.update(hash="00" * 32))
    assert has(problems, "tile node (level 8, entries 0-255)", "does not match")


def test_a_planted_tile_node_is_named(scene):
    problems = problems_after(
        lambda: LedgerNode.objects.create(id=(20 << 56), level=20, index=0, hash="00" * 32)
    )
    assert has(problems, "tile nodes:", "stored", "expected")


# --- signed tree heads --------------------------------------------------------------------


def test_a_head_with_a_bad_signature_is_named(scene):
    head = SignedTreeHead.objects.order_by("size").first()
    sig = sth.unb64(head.signature, "sig")
    bad = sth.b64(bytes([sig[0] ^ 1]) + sig[1:])
    problems = problems_after(
        lambda: SignedTreeHead.objects.filter(pk=head.pk).update(signature=bad)
    )
    assert has(problems, f"tree head {head.size}:", "signature does not verify")


def test_a_head_rewritten_to_another_root_is_named(scene):
    head = SignedTreeHead.objects.order_by("size").first()
    problems = problems_after(
        lambda: SignedTreeHead.objects.filter(pk=head.pk).update(root="cd" * 32)
    )
    assert has(problems, f"tree head {head.size}:", "signature does not verify")
    assert has(problems, f"tree head {head.size}:", "not the root")


def _planted_key() -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key_id = sth.key_id(public)
    return private, key_id


def test_a_head_resigned_with_an_unknown_key_is_named(scene):
    private, key_id = _planted_key()
    head = SignedTreeHead.objects.order_by("size").last()
    th = heads.tree_head(head)

    def resign() -> None:
        SignedTreeHead.objects.filter(pk=head.pk).update(
            key_id=key_id, signature=sth.b64(private.sign(th.message()))
        )

    problems = problems_after(resign)
    assert has(problems, f"tree head {head.size}:", f"signed by key {key_id[:16]}", "forged")


def test_a_head_resigned_with_a_planted_key_is_named(scene):
    """The attacker also plants their key in the key table (they cannot wrap it under our
    master key, and cannot announce it in the ledger without rewriting it)."""
    private, key_id = _planted_key()
    head = SignedTreeHead.objects.order_by("size").last()
    th = heads.tree_head(head)
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )

    def plant_and_resign() -> None:
        SigningKey.objects.filter(retired_at__isnull=True).update(retired_at=head.created_at)
        SigningKey.objects.create(
            key_id=key_id, purpose="ledger-sth", public_key=public, kek_id="x", wrapped=b"x" * 60
        )
        SignedTreeHead.objects.filter(pk=head.pk).update(
            key_id=key_id, signature=sth.b64(private.sign(th.message()))
        )

    problems = problems_after(plant_and_resign)
    assert has(problems, f"signing key {key_id[:16]}:", "planted")
    assert has(problems, f"tree head {head.size}:", "forged")


def test_a_public_key_swapped_in_the_key_table_is_named(scene):
    planted, _key_id = _planted_key()
    row = SigningKey.objects.get()
    public = planted.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    problems = problems_after(
        lambda: SigningKey.objects.filter(pk=row.pk).update(public_key=public)
    )
    assert has(problems, f"signing key {row.key_id[:16]}:", "fingerprint")


def test_pinning_the_trusted_key_refuses_heads_of_any_other(scene):
    report = verify(trusted_keys={"0" * 64})
    assert has(report.problems, "tree head", "not one you trust")
    assert verify(trusted_keys={SigningKey.objects.get().key_id}).ok


def test_a_tampered_cosignature_is_named(scene):
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    heads.do_add_witness(name="partner", public_key=sth.b64(public))
    head = heads.do_sign_head()
    heads.do_import_cosignature(data=sth.cosign(heads.head_json(head), private, heads.now_ms()))
    assert verify().ok
    problems = problems_after(lambda: Cosignature.objects.update(timestamp=1))
    assert has(problems, f"tree head {head.size}:", "co-signature of witness partner")


# --- sealed client rows ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [("sex", None), ("birth_date", "1901-01-01"), ("status", "inactive")],
)
def test_a_client_row_updated_by_sql_is_named(scene, column, value):
    client = scene[0]
    if value is None:
        value = "F" if client.sex == "M" else "M"
    seal = RowSeal.objects.get(row_id=str(client.id))
    problems = problems_after(
        lambda: sql(f"UPDATE {CLIENTS} SET {column} = %s WHERE id = %s", [value, db_id(client)])
    )
    assert has(
        problems,
        f"table clients_client row {client.id}:",
        "changed behind the application's back",
        f"entry {seal.seq}",
    )


def test_a_sealed_column_swapped_between_rows_is_named(scene):
    a, b = scene[0], scene[1]
    problems = problems_after(
        lambda: sql(
            f"UPDATE {CLIENTS} SET phone = (SELECT phone FROM {CLIENTS} WHERE id = %s) "
            "WHERE id = %s",
            [db_id(b), db_id(a)],
        )
    )
    assert has(problems, f"row {a.id}:", "changed")


def test_a_client_row_deleted_by_sql_is_named(scene):
    client = scene[1]

    def delete() -> None:
        for child in ("clients_clientcareteam", "clients_membershipcard", "clients_clientrevision"):
            sql(f"DELETE FROM {child} WHERE client_id = %s", [db_id(client)])
        sql(f"DELETE FROM {CLIENTS} WHERE id = %s", [db_id(client)])

    problems = problems_after(delete)
    assert has(problems, f"table clients_client row {client.id}:", "deleted behind")


def test_a_client_row_inserted_by_sql_is_named(scene):
    source = scene[2]
    new_id = Client._meta.pk.get_db_prep_value(uuid.UUID(int=0xC0FFEE), connection)
    columns = [f.column for f in Client._meta.concrete_fields]
    replaced = {"id": "%s", "document_index": "'forged-doc'", "phone_index": "'forged-phone'"}
    select = ", ".join(replaced.get(c, c) for c in columns)

    def insert() -> None:
        sql(
            f"INSERT INTO {CLIENTS} ({', '.join(columns)}) "
            f"SELECT {select} FROM {CLIENTS} WHERE id = %s",
            [new_id, db_id(source)],
        )

    problems = problems_after(insert)
    assert has(problems, "row 00000000-0000-0000-0000-000000c0ffee:", "no seal", "inserted")


def test_a_seal_index_edited_to_cover_a_tampered_row_does_not_hide_it(scene):
    client = scene[0]

    def tamper_and_cover() -> None:
        sql(f"UPDATE {CLIENTS} SET status = 'inactive' WHERE id = %s", [db_id(client)])
        from careledger.ledger.rows import row_digest

        RowSeal.objects.filter(row_id=str(client.id)).update(
            digest=row_digest(Client.objects.get(pk=client.id))
        )

    problems = problems_after(tamper_and_cover)
    assert has(problems, f"row seal of table clients_client row {client.id}:", "index altered")
    assert has(problems, f"table clients_client row {client.id}:", "changed")


def test_the_command_names_every_problem_on_stderr(scene, capsys):
    sql(f"DELETE FROM {ENTRIES} WHERE seq = 2")
    sql(f"UPDATE {CLIENTS} SET status = 'inactive' WHERE id = %s", [db_id(scene[0])])
    with pytest.raises(SystemExit):
        call_command("ledger", "verify")
    err = capsys.readouterr().err
    assert "TAMPERING: entry 2: missing (deleted)" in err
    assert f"TAMPERING: table clients_client row {scene[0].id}: changed" in err
    assert "problem(s) found" in err


def test_verify_can_skip_the_row_check(scene, capsys):
    sql(f"UPDATE {CLIENTS} SET status = 'inactive' WHERE id = %s", [db_id(scene[0])])
    call_command("ledger", "verify", "--skip-rows")
    assert "ledger verified" in capsys.readouterr().out
