"""Receipts: `receipt_for` gives a self-contained proof for one entry (signing a head when none
covers it yet); `verify_receipt` checks it offline and refuses any alteration with a reason;
`careledger ledger verify-receipt` does the same from a file."""

from __future__ import annotations

import copy
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError

from careledger.clients.selectors import get_client
from careledger.ledger import heads, proofs, sth
from careledger.ledger import services as ledger
from careledger.ledger.models import LedgerEntry, SignedTreeHead
from careledger.ledger.receipts import RECEIPT_FORMAT, receipt_for, verify_receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt(world):  # type: ignore[no-untyped-def]
    enrolled = world.enrol()
    get_client(world.doctor, enrolled.client_id)
    seq = LedgerEntry.objects.get(action="client.view").seq
    return receipt_for(seq)


def published_key() -> bytes:
    return sth.unb64(heads.public_key_info()["public_key"], "key")


def test_a_receipt_is_self_contained_and_verifies_with_the_published_key(receipt):
    assert receipt["format"] == RECEIPT_FORMAT
    assert set(receipt) == {
        "format",
        "leaf",
        "leaf_index",
        "leaf_hash",
        "tree_size",
        "inclusion_proof",
        "tree_head",
    }
    assert json.loads(receipt["leaf"])["action"] == "client.view"
    assert receipt["tree_head"]["size"] == receipt["tree_size"] > receipt["leaf_index"]
    json.dumps(receipt)  # JSON-able as it is
    ok, reason = verify_receipt(receipt, published_key())
    assert ok, reason
    assert "the public key you gave" in reason


def test_without_a_pinned_key_the_receipt_is_checked_against_its_own_key(receipt):
    ok, reason = verify_receipt(receipt)
    assert ok and "compare its key id" in reason


def test_receipt_for_signs_a_head_only_when_none_covers_the_entry(world):
    world.enrol()
    first = receipt_for(0)
    assert SignedTreeHead.objects.count() == 1
    assert receipt_for(0)["tree_size"] == first["tree_size"]
    ledger.record(actor=ledger.SYSTEM, action="test.later")
    later = LedgerEntry.objects.get(action="test.later").seq
    assert later >= first["tree_size"]
    assert receipt_for(later)["tree_size"] > later
    assert SignedTreeHead.objects.count() == 2
    assert receipt_for(0)["tree_size"] == first["tree_size"]  # the smallest covering head


def test_a_receipt_against_a_chosen_head(world):
    world.enrol()
    early = heads.do_sign_head()
    world.enrol()
    late = heads.do_sign_head()
    assert receipt_for(0, size=late.size)["tree_size"] == late.size
    assert receipt_for(0, size=early.size)["tree_size"] == early.size
    with pytest.raises(proofs.ProofError):
        receipt_for(late.size - 1, size=early.size)
    with pytest.raises(proofs.ProofError):
        receipt_for(0, size=late.size + 5)
    with pytest.raises(proofs.ProofError):
        receipt_for(10**6)


def altered(receipt, change):  # type: ignore[no-untyped-def]
    bad = copy.deepcopy(receipt)
    change(bad)
    return bad


def _flip_proof(r):  # type: ignore[no-untyped-def]
    r["inclusion_proof"][0] = ("0" if r["inclusion_proof"][0][0] != "0" else "1") + r[
        "inclusion_proof"
    ][0][1:]


TAMPERS = {
    "leaf text": (lambda r: r.update(leaf=r["leaf"].replace("view", "list")), "leaf"),
    "leaf text and hash": (
        lambda r: r.update(
            leaf=r["leaf"].replace("view", "list"),
            leaf_hash=None,
        ),
        "inclusion proof",
    ),
    "index": (lambda r: r.update(leaf_index=r["leaf_index"] + 1), "inclusion proof"),
    "proof node": (_flip_proof, "inclusion proof"),
    "proof truncated": (lambda r: r["inclusion_proof"].pop(), "inclusion proof"),
    "tree size": (lambda r: r.update(tree_size=r["tree_size"] + 1), "size"),
    "head root": (lambda r: r["tree_head"].update(root="00" * 32), "signature"),
    "head size and receipt size": (
        lambda r: (
            r["tree_head"].update(size=r["tree_size"] + 1),
            r.update(tree_size=r["tree_size"] + 1),
        ),
        "signature",
    ),
    "head timestamp": (lambda r: r["tree_head"].update(timestamp=1), "signature"),
    "signature": (
        lambda r: r["tree_head"].update(signature=sth.b64(b"\x00" * 64)),
        "signature",
    ),
    "format": (lambda r: r.update(format="x"), "not a"),
    "proof not hex": (lambda r: r.update(inclusion_proof=["zz" * 32]), "malformed"),
}


@pytest.mark.parametrize("what", list(TAMPERS))
def test_any_alteration_is_refused_with_a_reason(receipt, what):
    change, reason_word = TAMPERS[what]
    ok, reason = verify_receipt(altered(receipt, change), published_key())
    assert not ok, what
    assert reason_word in reason, (what, reason)


def test_a_receipt_resigned_by_someone_else_fails_against_the_published_key(receipt):
    other = Ed25519PrivateKey.generate()
    public = other.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    signed = sth.head_from_json(receipt["tree_head"])
    forged = altered(
        receipt,
        lambda r: r["tree_head"].update(
            public_key=sth.b64(public),
            key_id=sth.key_id(public),
            signature=sth.b64(other.sign(signed.head.message())),
        ),
    )
    assert verify_receipt(forged)[0]  # self-consistent ...
    ok, reason = verify_receipt(forged, published_key())  # ... but not ours
    assert not ok and "not with the public key you trust" in reason


def test_verify_receipt_command(receipt, tmp_path, capsys):
    good = tmp_path / "receipt.json"
    good.write_text(json.dumps(receipt))
    key = heads.public_key_info()["public_key"]
    call_command("ledger", "verify-receipt", str(good), "--public-key", key)
    assert "receipt valid" in capsys.readouterr().out
    key_file = tmp_path / "key.txt"
    key_file.write_text(key + "\n")
    call_command("ledger", "verify-receipt", str(good), "--public-key", str(key_file))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(altered(receipt, TAMPERS["leaf text"][0])))
    with pytest.raises(SystemExit):
        call_command("ledger", "verify-receipt", str(bad))
    assert "receipt NOT valid" in capsys.readouterr().err
    bad.write_text("nonsense")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("ledger", "verify-receipt", str(bad))
    with pytest.raises(CommandError, match="public key"):
        call_command("ledger", "verify-receipt", str(good), "--public-key", "short")


def test_the_receipt_command_prints_one(receipt, capsys):
    call_command("ledger", "receipt", str(receipt["leaf_index"]))
    printed = json.loads(capsys.readouterr().out)
    assert verify_receipt(printed, published_key())[0]
    with pytest.raises(CommandError, match="does not exist"):
        call_command("ledger", "receipt", "999999")
