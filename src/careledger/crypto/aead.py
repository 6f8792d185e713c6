"""Sealed tokens: AES-256-GCM ciphertext bound to the place it belongs.

Token layout (then base64url, no padding):

    version (1 byte, 0x01) ‖ data-key id (16 bytes, UUID) ‖ nonce (12 bytes) ‖ ciphertext+tag

The associated data is `careledger/v1 ‖ table ‖ column ‖ row id ‖ key id`, each NUL-separated, so
a token copied into another row, another column or another table fails authentication, and the
version byte lets a future format live beside this one. Pure module: no Django, no database.
"""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
_HEADER = 1 + 16 + 12
_TAG = 16


class DecryptionError(Exception):
    """The token is malformed, was altered, was moved, or the key is wrong."""


@dataclass(frozen=True)
class Binding:
    """Where a sealed value lives. Every part goes into the associated data."""

    table: str
    column: str
    row: str

    def aad(self, key_id: uuid.UUID) -> bytes:
        parts = ("careledger/v1", self.table, self.column, self.row, key_id.hex)
        return "\x00".join(parts).encode()


def seal(key: bytes, key_id: uuid.UUID, plaintext: bytes, binding: Binding) -> str:
    nonce = os.urandom(12)
    body = AESGCM(key).encrypt(nonce, plaintext, binding.aad(key_id))
    raw = bytes([VERSION]) + key_id.bytes + nonce + body
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(token: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError) as exc:
        raise DecryptionError("token is not base64url") from exc
    if len(raw) < _HEADER + _TAG:
        raise DecryptionError("token is too short")
    if raw[0] != VERSION:
        raise DecryptionError(f"unknown token version {raw[0]}")
    return raw


def key_id_of(token: str) -> uuid.UUID:
    return uuid.UUID(bytes=_decode(token)[1:17])


def open_sealed(key: bytes, token: str, binding: Binding) -> bytes:
    raw = _decode(token)
    key_id = uuid.UUID(bytes=raw[1:17])
    try:
        return AESGCM(key).decrypt(raw[17:29], raw[29:], binding.aad(key_id))
    except InvalidTag as exc:
        raise DecryptionError("token failed authentication") from exc
