"""Checking a printed report: is it one the institution issued, and is it unaltered? Pure: no
Django (the published keys and the re-drawing function are passed in).

What is checked, in order (each failure says which, decision 0024):

1. the PDF carries the two attachments `careledger-report.json` (the document) and
   `careledger-seal.json`, and the document is in canonical form;
2. SHA-256 of the document equals the seal's hash ("the content was altered" otherwise);
3. the seal's Ed25519 signature over that hash verifies under one of the institution's published
   report keys ("forged" otherwise);
4. what the pages show is what the document says: the document is drawn again and each page's
   text must be the same (someone who edits a figure on a page but not in the attachment is
   caught); when the seal names the same renderer version as this installation's, the pages'
   drawing instructions must be identical too, which also covers the charts and the QR code;
5. with `qr` (a payload scanned from paper): its signature verifies, and with a file, it names
   this print and this hash ("the QR code does not belong to this report" otherwise).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from careledger.reports import document
from careledger.reports.seal import (
    DOCUMENT_FILE,
    SEAL_FILE,
    Seal,
    SealError,
    check_signature,
    parse_qr,
    parse_seal,
)

Redraw = Callable[[dict[str, Any], bytes, Seal], bytes]
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Verified:
    print_id: str
    sha256: str
    key_id: str
    pages: int
    document: dict[str, Any]
    checks: list[str] = field(default_factory=list)


def _reader(raw: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(raw))
        _ = len(reader.pages)
    except (PdfReadError, ValueError, OSError) as exc:
        raise SealError(f"not a readable PDF ({type(exc).__name__})") from None
    return reader


def _attachment(reader: PdfReader, name: str) -> bytes:
    try:
        found = reader.attachments.get(name)
    except (PdfReadError, KeyError, ValueError):
        found = None
    if not found:
        raise SealError(f"not a sealed CareLedger report: the PDF has no {name} attachment")
    if len(found) != 1:
        raise SealError(f"the PDF carries {len(found)} attachments named {name}")
    return found[0]


def page_texts(reader: PdfReader) -> list[str]:
    return [_SPACE.sub("", page.extract_text() or "") for page in reader.pages]


def page_drawings(reader: PdfReader) -> list[bytes]:
    return [page.get_contents().get_data() if page.get_contents() else b"" for page in reader.pages]


def verify_qr(payload: str, keys: Mapping[str, bytes]) -> tuple[str, str, str]:
    """(print id, hash hex, key id) of a scanned QR payload whose signature verifies."""
    claim = parse_qr(payload)
    key_id = check_signature(claim.digest, claim.signature, claim.key_prefix, keys)
    return claim.print_id, claim.digest.hex(), key_id


def verify_pdf(
    raw: bytes,
    keys: Mapping[str, bytes],
    *,
    redraw: Redraw | None = None,
    renderer: str = "",
    qr: str | None = None,
) -> Verified:
    """The verified facts of a sealed report PDF; SealError naming the first failed check."""
    reader = _reader(raw)
    canonical = _attachment(reader, DOCUMENT_FILE)
    seal = parse_seal(_attachment(reader, SEAL_FILE))
    checks = []
    if not document.is_canonical(canonical):
        raise SealError("the embedded report content is not in canonical form: it was rewritten")
    if document.content_hash(canonical) != seal.digest:
        raise SealError(
            "the report's content was altered: its SHA-256 does not match the sealed hash"
        )
    checks.append("hash")
    key_id = check_signature(seal.digest, seal.signature, seal.key_id, keys)
    if key_id != seal.key_id:
        raise SealError("the seal names a key id that is not its signing key")
    checks.append("signature")
    doc = json.loads(canonical)
    if doc.get("print", {}).get("id") != seal.print_id:
        raise SealError("the seal belongs to another print than the embedded content")
    if redraw is not None:
        expected = _reader(redraw(doc, canonical, seal))
        if len(expected.pages) != len(reader.pages):
            raise SealError(
                f"the PDF has {len(reader.pages)} pages; the sealed content makes "
                f"{len(expected.pages)}: pages were added or removed"
            )
        for n, (got, want) in enumerate(
            zip(page_texts(reader), page_texts(expected), strict=True), start=1
        ):
            if got != want:
                raise SealError(f"page {n} does not show what the sealed content says")
        checks.append("pages")
        if seal.renderer and seal.renderer == renderer:
            for n, (got_d, want_d) in enumerate(
                zip(page_drawings(reader), page_drawings(expected), strict=True), start=1
            ):
                if got_d != want_d:
                    raise SealError(
                        f"page {n} is drawn differently from the sealed content "
                        "(a chart, the QR code or the layout was changed)"
                    )
            checks.append("drawing")
    if qr is not None:
        qr_print, qr_hash, _qr_key = verify_qr(qr, keys)
        if qr_print != seal.print_id or qr_hash != seal.digest.hex():
            raise SealError("the QR code does not belong to this report")
        checks.append("qr")
    return Verified(seal.print_id, seal.digest.hex(), key_id, len(reader.pages), doc, checks)
