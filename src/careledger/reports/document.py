"""The printed report's content as one canonical JSON document, and its hash. Pure: no Django.

Why a document and not the PDF bytes: a PDF's bytes depend on the library, its version, font
subsetting and object order, and a printed sheet has no bytes at all. What a reader must be able
to check is *what the report says*. So every fact the PDF shows (the institution, the client as
the viewer's role may see them, results, charts' points, risks, advice, tags, and the print's own
viewer, role, time and purpose that the watermark repeats) is first put into one JSON document;
the PDF is drawn from that document alone, embeds it as an attachment, and the institution signs
its SHA-256. Canonical form: keys sorted, no insignificant whitespace, UTF-8 (not \\u escapes),
numbers as the strings the report prints (no float formatting differences), as the ledger's leaves.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

VERSION = 1
DOMAIN = b"careledger-report-v1\x00"  # signatures over report hashes, never anything else


def canonical_json(document: dict[str, Any]) -> bytes:
    return json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def content_hash(canonical: bytes) -> bytes:
    """SHA-256 of the canonical document (raw 32 bytes)."""
    return hashlib.sha256(canonical).digest()


def signed_message(digest: bytes) -> bytes:
    """What the institution's Ed25519 key signs: a fixed domain tag, then the hash, so a report
    signature can never be replayed as a ledger tree head or a share bundle (other key purposes
    as well, but the tag makes it explicit)."""
    if len(digest) != 32:
        raise ValueError("a report hash is 32 bytes")
    return DOMAIN + digest


def is_canonical(raw: bytes) -> bool:
    try:
        return canonical_json(json.loads(raw.decode("utf-8"))) == raw
    except (UnicodeDecodeError, ValueError):
        return False
