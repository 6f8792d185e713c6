"""Sealed tokens (pure): round trip, tamper, move and wrong-key refusals, as properties."""

from __future__ import annotations

import base64
import os
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careledger.crypto import aead

KEY = os.urandom(32)
KEY_ID = uuid.uuid4()
HERE = aead.Binding("clients_client", "name", "7d0c0a8e-0000-4000-8000-000000000001")


def decode(token: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


@given(st.binary(max_size=512))
def test_round_trip(plaintext):
    token = aead.seal(KEY, KEY_ID, plaintext, HERE)
    assert aead.key_id_of(token) == KEY_ID
    assert aead.open_sealed(KEY, token, HERE) == plaintext


@given(st.text(max_size=64), st.data())
def test_any_flipped_bit_is_refused(text, data):
    raw = decode(aead.seal(KEY, KEY_ID, text.encode(), HERE))
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(aead.DecryptionError):
        aead.open_sealed(KEY, encode(raw), HERE)


@given(
    st.text(min_size=1, max_size=32),
    st.sampled_from(["table", "column", "row"]),
    st.text(min_size=1, max_size=20),
)
def test_a_token_moved_to_another_row_column_or_table_is_refused(text, part, other):
    token = aead.seal(KEY, KEY_ID, text.encode(), HERE)
    moved = aead.Binding(
        HERE.table + other if part == "table" else HERE.table,
        HERE.column + other if part == "column" else HERE.column,
        HERE.row + other if part == "row" else HERE.row,
    )
    with pytest.raises(aead.DecryptionError):
        aead.open_sealed(KEY, token, moved)


@given(st.binary(min_size=32, max_size=32), st.binary(max_size=64))
def test_the_wrong_key_is_refused(other_key, plaintext):
    token = aead.seal(KEY, KEY_ID, plaintext, HERE)
    if other_key != KEY:
        with pytest.raises(aead.DecryptionError):
            aead.open_sealed(other_key, token, HERE)


@pytest.mark.parametrize("token", ["", "!!!", "AAAA", encode(b"\x02" + bytes(60))])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(aead.DecryptionError):
        aead.open_sealed(KEY, token, HERE)
