"""Signed tree heads and witness co-signatures: the signed bytes, the JSON, Ed25519 checks.

Pure module (the `cryptography` package and the standard library, no Django), so a receipt or
an exported head can be checked by anyone, offline, with a few lines of code.

What is signed. A tree head commits to four things: which log (`log_id`), how many entries
(`size`), their Merkle root, and when (`timestamp`, milliseconds since the Unix epoch, UTC). The
signed message is a short line-oriented text, one labelled field per line, in a fixed order:

    careledger.tree-head/v1
    log <log id>
    size <decimal>
    root <64 lowercase hex>
    time <decimal milliseconds>

Why text and not JSON: there is exactly one encoding for each head (no key order, spacing or
number-format choices to canonicalise), the first line separates it from every other message
the key might ever sign, and a human can read what they are checking. The layout follows the
C2SP "checkpoint" notes that transparency-log witnesses co-sign, with the timestamp that our
audit use needs inside the signed body. The log id is restricted to a small character set so no
field can contain a newline and forge another.

A witness co-signature signs `careledger.cosignature/v1`, its own `time <ms>` line, then the
tree head message unchanged, so one witness signature vouches for exactly one (log, size, root,
time) and says when the witness saw it.

Keys are raw 32-byte Ed25519 public keys, written as standard base64; a key id is the
SHA-256 of the raw key in hex (a fingerprint anyone can recompute, not a secret).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

TREE_HEAD_FORMAT = "careledger.tree-head/v1"
COSIGNATURE_FORMAT = "careledger.cosignature/v1"
ALGORITHM = "Ed25519"
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
_LOG_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,100}$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class FormatError(ValueError):
    """A head, co-signature or key is malformed (as opposed to well-formed but not valid)."""


@dataclass(frozen=True)
class TreeHead:
    log_id: str
    size: int
    root: bytes
    timestamp: int

    def __post_init__(self) -> None:
        if not isinstance(self.log_id, str) or not _LOG_ID.match(self.log_id):
            raise FormatError("log id must be 1-100 characters of A-Z a-z 0-9 . _ : / -")
        for name in ("size", "timestamp"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise FormatError(f"{name} must be a non-negative integer")
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            raise FormatError("root must be 32 bytes")

    def message(self) -> bytes:
        return (
            f"{TREE_HEAD_FORMAT}\nlog {self.log_id}\nsize {self.size}\n"
            f"root {self.root.hex()}\ntime {self.timestamp}\n"
        ).encode("ascii")


def cosignature_message(head: TreeHead, timestamp: int) -> bytes:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise FormatError("co-signature time must be a non-negative integer")
    return f"{COSIGNATURE_FORMAT}\ntime {timestamp}\n".encode("ascii") + head.message()


# --- keys and signatures ----------------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    if not isinstance(text, str):
        raise FormatError(f"{what} must be a base64 string")
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FormatError(f"{what} is not valid base64") from exc


def key_id(public_key: bytes) -> str:
    """Fingerprint of a raw Ed25519 public key: SHA-256, hex."""
    return hashlib.sha256(public_key).hexdigest()


def parse_public_key(text: str) -> bytes:
    """A raw 32-byte Ed25519 public key from base64, 64 hex digits or a PEM block."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except ValueError as exc:
            raise FormatError("not a readable PEM public key") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise FormatError("the PEM key is not an Ed25519 key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw = bytes.fromhex(text) if _HEX64.match(text) else unb64(text, "public key")
    if len(raw) != PUBLIC_KEY_BYTES:
        raise FormatError(f"an Ed25519 public key is {PUBLIC_KEY_BYTES} bytes, got {len(raw)}")
    return raw


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- JSON forms (export for witnesses, receipts) ------------------------------------------


def head_to_json(
    head: TreeHead, *, key_id: str, public_key: bytes, signature: bytes
) -> dict[str, Any]:
    return {
        "format": TREE_HEAD_FORMAT,
        "log_id": head.log_id,
        "size": head.size,
        "root": head.root.hex(),
        "timestamp": head.timestamp,
        "algorithm": ALGORITHM,
        "key_id": key_id,
        "public_key": b64(public_key),
        "signature": b64(signature),
    }


@dataclass(frozen=True)
class SignedHead:
    head: TreeHead
    key_id: str
    public_key: bytes
    signature: bytes

    def verify(self) -> tuple[bool, str]:
        """The signature against the head's own public key, and that key against its id."""
        if key_id(self.public_key) != self.key_id:
            return False, "the key id is not the fingerprint of the public key"
        if not verify_signature(self.public_key, self.head.message(), self.signature):
            return False, "the tree head signature does not verify"
        return True, "signature valid"


def _field(data: dict[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise FormatError(f"'{name}' is missing or not a {kind.__name__}")
    return value


def _root(data: dict[str, Any]) -> bytes:
    root = _field(data, "root", str)
    if not _HEX64.match(root):
        raise FormatError("'root' must be 64 hex digits")
    return bytes.fromhex(root)


def head_from_json(data: Any) -> SignedHead:
    if not isinstance(data, dict):
        raise FormatError("a tree head must be a JSON object")
    if data.get("format") != TREE_HEAD_FORMAT:
        raise FormatError(f"not a {TREE_HEAD_FORMAT} tree head")
    root = _root(data)
    head = TreeHead(
        log_id=_field(data, "log_id", str),
        size=_field(data, "size", int),
        root=root,
        timestamp=_field(data, "timestamp", int),
    )
    public_key = parse_public_key(_field(data, "public_key", str))
    signature = unb64(_field(data, "signature", str), "signature")
    return SignedHead(head, _field(data, "key_id", str), public_key, signature)


def cosign(head_json: dict[str, Any], private_key: Ed25519PrivateKey, timestamp: int) -> dict:
    """What a witness does (reference implementation, used by `careledger ledger
    witness-cosign` and the tests): check the log's signature, then co-sign the same head.

    A real witness also keeps the last (size, root) it co-signed for this log and refuses a
    head that is not consistent with it (see `export-head --from-size`); that state lives with
    the witness, not here.
    """
    signed = head_from_json(head_json)
    ok, reason = signed.verify()
    if not ok:
        raise FormatError(f"refusing to co-sign: {reason}")
    public = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    signature = private_key.sign(cosignature_message(signed.head, timestamp))
    return {
        "format": COSIGNATURE_FORMAT,
        "log_id": signed.head.log_id,
        "size": signed.head.size,
        "root": signed.head.root.hex(),
        "head_timestamp": signed.head.timestamp,
        "timestamp": timestamp,
        "algorithm": ALGORITHM,
        "key_id": key_id(public),
        "signature": b64(signature),
    }


@dataclass(frozen=True)
class CosignatureFile:
    log_id: str
    size: int
    root: bytes
    head_timestamp: int
    timestamp: int
    key_id: str
    signature: bytes


def cosignature_from_json(data: Any) -> CosignatureFile:
    if not isinstance(data, dict):
        raise FormatError("a co-signature must be a JSON object")
    if data.get("format") != COSIGNATURE_FORMAT:
        raise FormatError(f"not a {COSIGNATURE_FORMAT} co-signature")
    root = _root(data)
    return CosignatureFile(
        log_id=_field(data, "log_id", str),
        size=_field(data, "size", int),
        root=root,
        head_timestamp=_field(data, "head_timestamp", int),
        timestamp=_field(data, "timestamp", int),
        key_id=_field(data, "key_id", str),
        signature=unb64(_field(data, "signature", str), "signature"),
    )


__all__ = [
    "ALGORITHM",
    "COSIGNATURE_FORMAT",
    "TREE_HEAD_FORMAT",
    "CosignatureFile",
    "FormatError",
    "SignedHead",
    "TreeHead",
    "b64",
    "cosign",
    "cosignature_from_json",
    "cosignature_message",
    "head_from_json",
    "head_to_json",
    "key_id",
    "parse_public_key",
    "unb64",
    "verify_signature",
]
