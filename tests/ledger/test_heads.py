"""Signed tree heads: the key's custody (wrapped by the master key, never in the clear, announced
in the ledger), signing on demand and on schedule (idempotent), export for witnesses, witness
registration and co-signature import (good ones stored, bad ones refused with a clear message)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from careledger.crypto import keyring, signing
from careledger.crypto.models import SigningKey
from careledger.ledger import heads, merkle, proofs, sth
from careledger.ledger import services as ledger
from careledger.ledger.models import Cosignature, LedgerEntry, LedgerHead, SignedTreeHead
from careledger.ledger.tasks import sign_tree_head

pytestmark = pytest.mark.django_db


def grow(n: int = 3) -> None:
    ledger.record_many(actor=ledger.SYSTEM, action="test.grow", client_ids=["c"] * n)


def raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def test_the_signing_key_is_made_on_first_use_wrapped_and_announced(world):
    grow()
    head = heads.do_sign_head()
    row = SigningKey.objects.get()
    assert row.key_id == head.key_id == sth.key_id(bytes(row.public_key))
    assert row.kek_id == keyring.kms().current_id
    assert signing.check_custody(row) is None
    announced = LedgerEntry.objects.get(action="ledger.key.create")
    detail = json.loads(announced.leaf)["detail"]
    assert detail["key_id"] == row.key_id
    assert detail["public_key"] == sth.b64(bytes(row.public_key))


def test_the_private_key_is_nowhere_in_the_clear(world):
    grow()
    heads.do_sign_head()
    signer, _ = signing.current_signer()
    private = signer._private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT wrapped, public_key FROM crypto_signingkey")
        wrapped, _public = cursor.fetchone()
    assert private not in bytes(wrapped)
    assert private.hex() not in bytes(wrapped).hex()


def test_a_key_under_a_rotated_master_key_is_rewrapped_when_next_used(world, settings):
    grow()
    heads.do_sign_head()
    old_kek = SigningKey.objects.get().kek_id
    new_key = "A" * 43
    settings.CARELEDGER_MASTER_KEY = f"{new_key},{django_settings.CARELEDGER_MASTER_KEY}"
    keyring.clear_cache()
    grow()
    heads.do_sign_head()
    row = SigningKey.objects.get()
    assert row.kek_id != old_kek and row.kek_id == keyring.kms().current_id
    assert signing.check_custody(row) is None


def test_signing_is_idempotent_while_nothing_is_appended(world):
    grow()
    first = heads.do_sign_head()
    assert heads.do_sign_head().pk == first.pk
    assert sign_tree_head() == first.size
    assert SignedTreeHead.objects.count() == 1
    grow()
    second = heads.do_sign_head()
    assert second.size > first.size and second.timestamp >= first.timestamp
    assert SignedTreeHead.objects.count() == 2


def test_a_head_signs_the_size_and_root_of_the_log(world):
    grow(5)
    row = heads.do_sign_head()
    head = LedgerHead.objects.get()
    assert (row.size, row.root, row.log_id) == (head.size, head.root, head.log_id)
    signed = sth.head_from_json(heads.head_json(row))
    assert signed.verify() == (True, "signature valid")
    hashes = [bytes.fromhex(h) for h in LedgerEntry.objects.values_list("leaf_hash", flat=True)]
    assert signed.head.root == merkle.root_from_leaf_hashes(hashes[: row.size])


def test_the_schedule_signs_every_ten_minutes_by_default():
    entry = django_settings.CELERY_BEAT_SCHEDULE["ledger-sign-tree-head"]
    assert entry["task"] == sign_tree_head.name == "careledger.ledger.sign_tree_head"
    assert entry["schedule"] == 600


def test_sign_and_public_key_commands(world, capsys):
    grow()
    call_command("ledger", "sign")
    signed = json.loads(capsys.readouterr().out)
    call_command("ledger", "public-key")
    published = json.loads(capsys.readouterr().out)
    assert signed["key_id"] == published["key_id"]
    assert signed["public_key"] == published["public_key"]
    assert published["log_id"] == signed["log_id"]


def test_export_head_with_a_consistency_proof_for_the_witness(world, capsys):
    grow(4)
    old = heads.do_sign_head()
    grow(9)
    call_command("ledger", "export-head", "--from-size", str(old.size))
    data = json.loads(capsys.readouterr().out)
    signed = sth.head_from_json(data)
    assert signed.verify()[0]
    proof = [bytes.fromhex(h) for h in data["consistency"]["proof"]]
    assert merkle.verify_consistency(
        old.size, signed.head.size, bytes.fromhex(old.root), signed.head.root, proof
    )
    call_command("ledger", "export-head", "--size", str(old.size))
    assert json.loads(capsys.readouterr().out)["size"] == old.size
    with pytest.raises(CommandError, match="no signed tree head at size 2"):
        call_command("ledger", "export-head", "--size", "2")


def test_export_head_refuses_a_from_size_beyond_the_head(world):
    grow(4)
    row = heads.do_sign_head()
    with pytest.raises(heads.HeadError, match="--from-size must be between 0 and"):
        heads.export_head(row.size, row.size + 1)
    with pytest.raises(heads.HeadError, match="--from-size must be between 0 and"):
        heads.export_head(row.size, -1)


@pytest.mark.parametrize("name", ["", "   ", "w" * 65])
def test_a_witness_name_must_be_1_to_64_characters(world, name):
    public = sth.b64(raw_public(Ed25519PrivateKey.generate()))
    with pytest.raises(heads.HeadError, match="1-64 characters"):
        heads.do_add_witness(name=name, public_key=public)
    assert not LedgerEntry.objects.filter(action="ledger.witness.add").exists()


@pytest.fixture
def witness(world):  # type: ignore[no-untyped-def]
    private = Ed25519PrivateKey.generate()
    heads.do_add_witness(name="浙江省人民医院", public_key=sth.b64(raw_public(private)))
    grow()
    return private


def test_a_valid_cosignature_is_verified_and_stored(witness, tmp_path, capsys):
    exported = heads.export_head()
    path = tmp_path / "cosig.json"
    path.write_text(json.dumps(sth.cosign(exported, witness, heads.now_ms())))
    call_command("ledger", "import-cosignature", str(path))
    assert "verified and stored" in capsys.readouterr().out
    assert Cosignature.objects.get().head.size == exported["size"]
    assert LedgerEntry.objects.filter(action="ledger.cosignature.import").exists()
    call_command("ledger", "import-cosignature", str(path))
    assert "already stored" in capsys.readouterr().out


def _cosig(witness, **changes):  # type: ignore[no-untyped-def]
    return sth.cosign(heads.export_head(), witness, heads.now_ms()) | changes


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda w: _cosig(w, timestamp=1), "does not verify with witness"),
        (lambda w: _cosig(w, root="00" * 32), "different head"),
        (lambda w: _cosig(w, size=10**6), "never signed a tree head of size"),
        (lambda w: _cosig(Ed25519PrivateKey.generate()), "unknown witness key"),
        (lambda w: {"format": "nonsense"}, "not a co-signature"),
    ],
    ids=["bad-signature", "split-view", "unknown-size", "unknown-witness", "not-a-cosignature"],
)
def test_a_bad_cosignature_is_refused_with_a_clear_message(witness, tamper, message):
    with pytest.raises(heads.HeadError, match=message):
        heads.do_import_cosignature(data=tamper(witness))
    assert not Cosignature.objects.exists()


def test_a_malformed_cosignature_file_is_refused_by_the_command(witness, tmp_path):
    path = tmp_path / "cosig.json"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="is not JSON"):
        call_command("ledger", "import-cosignature", str(path))


def test_witness_commands_register_list_and_refuse_duplicates_and_bad_keys(world, capsys):
    private = Ed25519PrivateKey.generate()
    call_command("ledger", "witness", "add", "partner", sth.b64(raw_public(private)))
    call_command("ledger", "witness", "list")
    assert "partner" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already registered"):
        call_command("ledger", "witness", "add", "partner", sth.b64(raw_public(private)))
    with pytest.raises(CommandError, match="witness key"):
        call_command("ledger", "witness", "add", "other", "not-a-key")
    assert LedgerEntry.objects.filter(action="ledger.witness.add").count() == 1


def test_the_witness_side_commands_round_trip(world, tmp_path, capsys):
    grow()
    key_file = tmp_path / "witness.pem"
    call_command("ledger", "witness", "keygen", str(key_file))
    public = capsys.readouterr().out.split("public key: ")[1].strip()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    call_command("ledger", "witness", "add", "partner", public)
    capsys.readouterr()
    call_command("ledger", "export-head")
    head_file = tmp_path / "head.json"
    head_file.write_text(capsys.readouterr().out)
    call_command("ledger", "witness-cosign", str(head_file), "--private-key", str(key_file))
    cosig_file = tmp_path / "cosig.json"
    cosig_file.write_text(capsys.readouterr().out)
    call_command("ledger", "import-cosignature", str(cosig_file))
    assert Cosignature.objects.count() == 1


def test_an_empty_ledger_has_nothing_to_sign_but_the_key_announcement(db):
    row = heads.do_sign_head()
    assert row.size == 1  # the ledger.key.create event itself
    assert proofs.tree_size() == 1


def test_rotating_the_key_keeps_old_heads_checkable_and_publishes_both(world, capsys):
    grow()
    old = heads.do_sign_head()
    call_command("ledger", "rotate-key")
    assert "new signing key" in capsys.readouterr().out
    new = SignedTreeHead.objects.order_by("-size").first()
    assert new.key_id != old.key_id and new.size > old.size
    assert SigningKey.objects.get(pk=old.key_id).retired_at is not None
    published = heads.public_key_info()
    assert published["key_id"] == new.key_id
    assert {k["key_id"] for k in published["keys"]} == {old.key_id, new.key_id}
    assert LedgerEntry.objects.filter(action="ledger.key.create").count() == 2
    from careledger.ledger.verify import verify

    report = verify()
    assert report.ok, report.problems
    assert report.heads == 2
