"""The seal of a printed report: its hash, the institution's signature, and the QR payload.
Pure: no Django (the signing key is opened by `careledger.crypto.signing` and passed in).

QR payload (ASCII, fits a version-10 QR at level M with room to spare):

    CLR1.<print id: 32 hex>.<SHA-256: base64url>.<key id: 16 hex>.<Ed25519 signature: base64url>

It carries no personal data: anyone who scans a paper report learns only which print it claims
to be, its hash and the signature. With the institution's published public key
(`careledger report public-key`, `/api/reports/public-key`) the signature proves the institution
issued a report with exactly that hash; `careledger report verify FILE` recomputes the hash of
the PDF's embedded document; `--qr` checks a scanned payload (and, with a file, that both agree).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from careledger.reports import document

PREFIX = "CLR1"
SEAL_FILE = "careledger-seal.json"
DOCUMENT_FILE = "careledger-report.json"
_QR = re.compile(r"CLR1\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})\.([0-9a-f]{16})\.([A-Za-z0-9_-]{86})")


class SealError(ValueError):
    """Why a seal or QR payload does not check out (the message is for the person checking)."""


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Seal:
    print_id: str  # hex uuid
    digest: bytes  # SHA-256 of the canonical document
    key_id: str  # full fingerprint of the signing key
    signature: bytes
    renderer: str = ""  # "fpdf2 <version>": when the verifier may compare page drawings exactly

    @property
    def qr_payload(self) -> str:
        return ".".join(
            (PREFIX, self.print_id, b64(self.digest), self.key_id[:16], b64(self.signature))
        )

    def to_json(self) -> bytes:
        return document.canonical_json(
            {
                "v": document.VERSION,
                "alg": "Ed25519",
                "print_id": self.print_id,
                "sha256": self.digest.hex(),
                "key_id": self.key_id,
                "signature": b64(self.signature),
                "renderer": self.renderer,
                "qr": self.qr_payload,
            }
        )


def make_seal(
    canonical: bytes, *, print_id: str, key_id: str, sign: Callable[[bytes], bytes], renderer: str
) -> Seal:
    digest = document.content_hash(canonical)
    return Seal(print_id, digest, key_id, sign(document.signed_message(digest)), renderer)


def parse_seal(raw: bytes) -> Seal:
    try:
        data = json.loads(raw.decode("utf-8"))
        return Seal(
            print_id=str(data["print_id"]),
            digest=bytes.fromhex(data["sha256"]),
            key_id=str(data["key_id"]),
            signature=unb64(str(data["signature"])),
            renderer=str(data.get("renderer", "")),
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise SealError(f"the embedded seal is malformed ({type(exc).__name__})") from None


@dataclass(frozen=True)
class QrClaim:
    print_id: str
    digest: bytes
    key_prefix: str
    signature: bytes


def parse_qr(payload: str) -> QrClaim:
    match = _QR.fullmatch(payload.strip())
    if not match:
        raise SealError("the QR payload is not a CareLedger report seal (CLR1.…)")
    print_id, digest, key_prefix, signature = match.groups()
    return QrClaim(print_id, unb64(digest), key_prefix, unb64(signature))


def find_key(keys: Mapping[str, bytes], key_id_or_prefix: str) -> tuple[str, bytes]:
    hits = [(k, v) for k, v in keys.items() if k.startswith(key_id_or_prefix)]
    if len(hits) != 1:
        raise SealError(
            f"signed by key {key_id_or_prefix[:16]}…, which is not one of the institution's "
            "published report keys"
        )
    return hits[0]


def check_signature(
    digest: bytes, signature: bytes, key_id_or_prefix: str, keys: Mapping[str, bytes]
) -> str:
    """The full key id that signed `digest`; SealError if no published key did."""
    key_id, public = find_key(keys, key_id_or_prefix)
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(
            signature, document.signed_message(digest)
        )
    except (InvalidSignature, ValueError):
        raise SealError(
            "the signature does not match the report's hash: the seal was forged or altered"
        ) from None
    return key_id
