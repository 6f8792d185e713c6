"""The seal and its checks, without a database: canonical document, hash, Ed25519 signature,
QR payload, and every way a report can be tampered with or forged, each named in the error."""

from __future__ import annotations

import copy
import io
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader, PdfWriter

from careledger.reports import document, render, verify
from careledger.reports.seal import (
    DOCUMENT_FILE,
    SEAL_FILE,
    SealError,
    b64,
    make_seal,
    parse_qr,
)
from reports.conftest import need_font
from reports.sample import sample

KEY_ID = "ab" * 32


def _raw(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


class Issuer:
    """An institution: its key, its published keys, and how it prints a document."""

    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()
        self.keys = {KEY_ID: _raw(self.private)}
        self.font = need_font()

    def seal(self, doc):  # type: ignore[no-untyped-def]
        canonical = document.canonical_json(doc)
        seal = make_seal(
            canonical,
            print_id=doc["print"]["id"],
            key_id=KEY_ID,
            sign=self.private.sign,
            renderer=render.RENDERER,
        )
        return canonical, seal

    def print(self, doc) -> bytes:  # type: ignore[no-untyped-def]
        canonical, seal = self.seal(doc)
        return render.render(doc, canonical, seal, self.font)

    def redraw(self, doc, canonical, seal) -> bytes:  # type: ignore[no-untyped-def]
        return render.render(doc, canonical, seal, self.font)

    def verify(self, pdf: bytes, **kw):  # type: ignore[no-untyped-def]
        return verify.verify_pdf(pdf, self.keys, redraw=self.redraw, renderer=render.RENDERER, **kw)


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture(scope="module")
def printed(issuer) -> bytes:  # type: ignore[no-untyped-def]
    return issuer.print(sample())


def _with_attachments(pdf: bytes, replace: dict[str, bytes]) -> bytes:
    """The same pages with the named attachments swapped (what an editor of the file does)."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    for name, contents in reader.attachments.items():
        writer.add_attachment(name, replace.get(name, contents[0]))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_canonical_json_is_sorted_compact_utf8_and_checked():
    raw = document.canonical_json({"b": "康", "a": [1, "2"]})
    assert raw == '{"a":[1,"2"],"b":"康"}'.encode()
    assert document.is_canonical(raw)
    assert not document.is_canonical(b'{"b": "x", "a": 1}')
    assert not document.is_canonical(b"\xff")


def test_the_signature_covers_a_domain_tag_and_the_hash_only():
    digest = document.content_hash(b"{}")
    assert document.signed_message(digest) == b"careledger-report-v1\x00" + digest
    with pytest.raises(ValueError):
        document.signed_message(b"short")


def test_a_genuine_report_passes_every_check(issuer, printed):
    canonical, seal = issuer.seal(sample())
    result = issuer.verify(printed, qr=seal.qr_payload)
    assert result.checks == ["hash", "signature", "pages", "drawing", "qr"]
    assert result.sha256 == document.content_hash(canonical).hex()
    assert result.document["client"]["name"] == "欧阳明月"
    assert result.pages >= 1


def test_the_qr_payload_carries_ids_hash_and_signature_but_no_personal_data(issuer):
    _canonical, seal = issuer.seal(sample())
    payload = seal.qr_payload
    assert payload.startswith("CLR1.") and len(payload) < 200
    assert "欧阳" not in payload and "13912340000" not in payload
    claim = parse_qr(payload)
    assert claim.digest == seal.digest and claim.signature == seal.signature
    assert verify.verify_qr(payload, issuer.keys)[0] == seal.print_id


def test_changed_content_in_the_attachment_is_caught_by_the_hash(issuer, printed):
    doc = sample()
    doc["abnormal"][0]["value"] = "126"
    tampered = _with_attachments(printed, {DOCUMENT_FILE: document.canonical_json(doc)})
    with pytest.raises(SealError, match="content was altered"):
        issuer.verify(tampered)


def test_a_rewritten_non_canonical_attachment_is_refused(issuer, printed):
    pretty = json.dumps(sample(), ensure_ascii=False, indent=1).encode()
    with pytest.raises(SealError, match="canonical"):
        issuer.verify(_with_attachments(printed, {DOCUMENT_FILE: pretty}))


def test_a_resealed_report_signed_by_another_key_is_forged(issuer, printed):
    doc = sample()
    doc["abnormal"][0]["value"] = "126"
    canonical = document.canonical_json(doc)
    forger = Ed25519PrivateKey.generate()
    forged = make_seal(canonical, print_id=doc["print"]["id"], key_id=KEY_ID,
                       sign=forger.sign, renderer=render.RENDERER)  # fmt: skip
    tampered = _with_attachments(
        render.render(doc, canonical, forged, issuer.font),
        {DOCUMENT_FILE: canonical, SEAL_FILE: forged.to_json()},
    )
    with pytest.raises(SealError, match="forged"):
        issuer.verify(tampered)


def test_a_seal_naming_an_unpublished_key_is_refused(issuer, printed):
    seal = json.loads(PdfReader(io.BytesIO(printed)).attachments[SEAL_FILE][0])
    seal["key_id"] = "cd" * 32
    tampered = _with_attachments(printed, {SEAL_FILE: document.canonical_json(seal)})
    with pytest.raises(SealError, match="not one of the institution's published"):
        issuer.verify(tampered)


def test_pages_that_say_something_else_than_the_sealed_content_are_caught(issuer, printed):
    """Edit a result on the page, keep the genuine attachment and seal: the hash and signature
    still verify, the redraw comparison does not."""
    genuine = sample()
    canonical, seal = issuer.seal(genuine)
    edited = copy.deepcopy(genuine)
    edited["abnormal"][0]["value"] = "126"
    pages = render.render(edited, canonical, seal, issuer.font)
    tampered = _with_attachments(pages, {DOCUMENT_FILE: canonical, SEAL_FILE: seal.to_json()})
    with pytest.raises(SealError, match="does not show what the sealed content says"):
        issuer.verify(tampered)


def test_a_swapped_qr_code_on_the_page_is_caught_by_the_drawing_check(issuer, printed):
    genuine = sample()
    canonical, seal = issuer.seal(genuine)
    other_canonical, other_seal = issuer.seal(sample(id="f" * 32))
    # Pages drawn with another print's QR code, attachments of the genuine one.
    pages = render.render(genuine, canonical, other_seal, issuer.font)
    tampered = _with_attachments(pages, {DOCUMENT_FILE: canonical, SEAL_FILE: seal.to_json()})
    with pytest.raises(SealError, match="page 1"):
        issuer.verify(tampered)
    assert other_canonical != canonical


def test_a_forged_qr_payload_fails(issuer):
    _canonical, seal = issuer.seal(sample())
    claim = parse_qr(seal.qr_payload)
    forged = seal.qr_payload.replace(b64(claim.digest), b64(bytes(32)))
    with pytest.raises(SealError, match="forged or altered"):
        verify.verify_qr(forged, issuer.keys)
    with pytest.raises(SealError, match="not a CareLedger report seal"):
        verify.verify_qr("https://example.invalid/fake", issuer.keys)


def test_a_genuine_qr_of_another_report_does_not_belong_to_this_one(issuer, printed):
    _c, other = issuer.seal(sample(id="e" * 32))
    with pytest.raises(SealError, match="does not belong to this report"):
        issuer.verify(printed, qr=other.qr_payload)


def test_removed_pages_are_caught(issuer, printed):
    reader = PdfReader(io.BytesIO(printed))
    if len(reader.pages) < 2:
        pytest.skip("the sample fits one page")
    writer = PdfWriter()
    writer.add_page(reader.pages[0])
    for name, contents in reader.attachments.items():
        writer.add_attachment(name, contents[0])
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(SealError, match="pages were added or removed"):
        issuer.verify(out.getvalue())


def test_files_that_are_not_sealed_reports_say_so(issuer):
    with pytest.raises(SealError, match="not a readable PDF"):
        verify.verify_pdf(b"hello", issuer.keys)
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(SealError, match=r"no careledger-report\.json attachment"):
        verify.verify_pdf(out.getvalue(), issuer.keys)
