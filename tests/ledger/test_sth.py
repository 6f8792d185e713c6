"""Signed tree heads and co-signatures (pure, no database): the exact signed bytes, Ed25519
checks that fail on any change, key parsing, and the reference witness."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from careledger.ledger import sth

ROOT = hashlib.sha256(b"root").digest()


def raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def signed_json(private: Ed25519PrivateKey, head: sth.TreeHead) -> dict:
    public = raw_public(private)
    return sth.head_to_json(
        head, key_id=sth.key_id(public), public_key=public, signature=private.sign(head.message())
    )


HEAD = sth.TreeHead("careledger:test", 1234, ROOT, 1_700_000_000_123)


def test_the_signed_message_is_fixed_text_in_a_fixed_order():
    assert HEAD.message() == (
        b"careledger.tree-head/v1\nlog careledger:test\nsize 1234\n"
        + f"root {ROOT.hex()}\n".encode()
        + b"time 1700000000123\n"
    )
    assert sth.cosignature_message(HEAD, 5) == (
        b"careledger.cosignature/v1\ntime 5\n" + HEAD.message()
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"log_id": "two\nlines"},
        {"log_id": ""},
        {"log_id": "名字"},
        {"size": -1},
        {"size": True},
        {"timestamp": 1.5},
        {"root": b"short"},
    ],
)
def test_a_head_refuses_fields_that_could_forge_another_line(kwargs):
    fields = {"log_id": "log", "size": 1, "root": ROOT, "timestamp": 0} | kwargs
    with pytest.raises(sth.FormatError):
        sth.TreeHead(**fields)


def test_key_id_is_the_sha256_of_the_raw_public_key():
    private = Ed25519PrivateKey.generate()
    public = raw_public(private)
    assert sth.key_id(public) == hashlib.sha256(public).hexdigest()


def test_a_signed_head_round_trips_and_verifies():
    private = Ed25519PrivateKey.generate()
    data = signed_json(private, HEAD)
    signed = sth.head_from_json(data)
    assert signed.head == HEAD
    assert signed.verify() == (True, "signature valid")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size", 1235),
        ("root", hashlib.sha256(b"other").hexdigest()),
        ("timestamp", 1_700_000_000_124),
        ("log_id", "careledger:other"),
    ],
)
def test_changing_any_signed_field_breaks_the_signature(field, value):
    data = signed_json(Ed25519PrivateKey.generate(), HEAD) | {field: value}
    ok, reason = sth.head_from_json(data).verify()
    assert not ok and "does not verify" in reason


def test_a_head_resigned_by_another_key_does_not_pass_as_the_original():
    original, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    data = signed_json(original, HEAD)
    forged = data | {"signature": sth.b64(other.sign(HEAD.message()))}
    assert not sth.head_from_json(forged).verify()[0]
    # Swapping in the other public key too is caught by the key id, which is what you pin.
    swapped = forged | {"public_key": sth.b64(raw_public(other))}
    ok, reason = sth.head_from_json(swapped).verify()
    assert not ok and "key id" in reason


def test_public_keys_parse_from_base64_hex_and_pem():
    private = Ed25519PrivateKey.generate()
    public = raw_public(private)
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    assert sth.parse_public_key(sth.b64(public)) == public
    assert sth.parse_public_key(base64.urlsafe_b64encode(public).decode().rstrip("=")) == public
    assert sth.parse_public_key(public.hex()) == public
    assert sth.parse_public_key(pem) == public


@pytest.mark.parametrize("bad", ["", "not base64!", sth.b64(b"x" * 31), "ab" * 33])
def test_bad_public_keys_are_refused_with_a_reason(bad):
    with pytest.raises(sth.FormatError):
        sth.parse_public_key(bad)


def test_the_reference_witness_cosigns_and_refuses_a_bad_head():
    log_key, witness_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    data = signed_json(log_key, HEAD)
    cosig = sth.cosignature_from_json(sth.cosign(data, witness_key, 42))
    assert (cosig.size, cosig.root, cosig.timestamp) == (1234, ROOT, 42)
    assert cosig.key_id == sth.key_id(raw_public(witness_key))
    assert sth.verify_signature(
        raw_public(witness_key), sth.cosignature_message(HEAD, 42), cosig.signature
    )
    assert not sth.verify_signature(
        raw_public(witness_key), sth.cosignature_message(HEAD, 43), cosig.signature
    )
    with pytest.raises(sth.FormatError, match="refusing to co-sign"):
        sth.cosign(data | {"size": 1}, witness_key, 42)


@pytest.mark.parametrize(
    "data", [None, [], {"format": "x"}, {"format": sth.TREE_HEAD_FORMAT, "size": "1"}]
)
def test_malformed_heads_raise_format_errors(data):
    with pytest.raises(sth.FormatError):
        sth.head_from_json(data)
