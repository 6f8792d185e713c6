"""The drawn report, checked as a reader sees it: pages rendered to PNG by pdftoppm and read
back by pdftotext (poppler), the QR code decoded from the PNG by zxing-cpp. Chinese must come
back as the same characters (glyphs with a Unicode map, not boxes or blanks), the font must be
embedded as a subset, every page must carry the watermark, and the QR scanned from the picture
must verify. PNGs are kept under the test's tmp dir (and var/screenshots/reports) to look at."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from pypdf import PdfReader

from careledger.reports import document, fonts, render, verify
from careledger.reports.seal import make_seal
from reports.conftest import need_font, pdf_pngs, pdf_text
from reports.sample import sample
from reports.test_seal_and_verify import KEY_ID, _raw

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "reports"


def _print(doc):  # type: ignore[no-untyped-def]
    font = need_font()
    key = Ed25519PrivateKey.generate()
    canonical = document.canonical_json(doc)
    seal = make_seal(canonical, print_id=doc["print"]["id"], key_id=KEY_ID, sign=key.sign,
                     renderer=render.RENDERER)  # fmt: skip
    return render.render(doc, canonical, seal, font), seal, {KEY_ID: _raw(key)}


def test_chinese_comes_back_from_the_page_as_the_same_characters(tmp_path):
    pdf, _seal, _keys = _print(sample())
    text = pdf_text(pdf, tmp_path)
    words_on_page = ["康链健康管理中心", "健康报告", "欧阳明月", "异常结果", "收缩压", "空腹血糖"]
    words_on_page += ["疾病风险评估", "每日食盐不超过5克", "高血压", "健康阶段总结", "暂无记录"]
    for words in words_on_page:
        assert words in text, words


def test_the_cjk_font_is_embedded_as_a_subset(tmp_path):
    pdf, _seal, _keys = _print(sample())
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    if not shutil.which("pdffonts"):
        pytest.skip("pdffonts missing (poppler-utils)")
    listing = subprocess.run(  # noqa: S603
        ["pdffonts", str(path)],  # noqa: S607
        capture_output=True,
        text=True,
    ).stdout
    row = next(line for line in listing.splitlines() if "CJK" in line)
    name, *_rest, emb, sub, uni, _obj, _gen = row.split()
    assert "+" in name and (emb, sub, uni) == ("yes", "yes", "yes"), row
    assert len(pdf) < 400_000  # a subset, not the 19 MB collection


def test_every_page_carries_the_watermark_of_viewer_role_time_and_purpose():
    doc = sample()
    pdf, _seal, _keys = _print(doc)
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    mark = doc["print"]["watermark"]
    assert mark == "王医生 · 医生 · 2026-12-04 20:30 · 诊疗"
    for page in pages:
        # pypdf reads the text operators in drawing order: the watermark comes first, whole.
        text = page.extract_text().replace("\x00", "")
        assert text.count(mark) >= 10
        assert "打印编号 0123456789abcdef" in text  # the footer


def test_rendered_pages_show_ink_and_the_scanned_qr_code_verifies(tmp_path):
    pdf, seal, keys = _print(sample())
    pngs = pdf_pngs(pdf, tmp_path, dpi=150)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for png in pngs:
        shutil.copy(png, SHOTS / png.name)
    first = Image.open(pngs[0]).convert("L")
    # The title block (institution name) is not blank: Chinese glyphs were drawn.
    title = first.crop((80, 80, 700, 160))
    assert sum(title.histogram()[:100]) > 500
    found = zxingcpp.read_barcodes(first)
    payloads = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert payloads == [seal.qr_payload]
    print_id, digest, key_id = verify.verify_qr(payloads[0], keys)
    assert (print_id, digest, key_id) == (seal.print_id, seal.digest.hex(), KEY_ID)


def test_a_font_without_chinese_would_lose_the_text(tmp_path):
    """The control: the same page with DejaVu (no CJK) does not give the Chinese back, so the
    round-trip above really proves the CJK font is what draws it."""
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not dejavu.is_file():
        pytest.skip("no DejaVu font to compare with")
    doc = sample()
    key = Ed25519PrivateKey.generate()
    canonical = document.canonical_json(doc)
    seal = make_seal(canonical, print_id=doc["print"]["id"], key_id=KEY_ID, sign=key.sign,
                     renderer=render.RENDERER)  # fmt: skip
    pdf = render.render(doc, canonical, seal, fonts.FontChoice(str(dejavu), 0, "DejaVu Sans"))
    assert "康链健康管理中心" not in pdf_text(pdf, tmp_path)


def test_a_missing_font_is_a_clear_error_naming_the_package():
    with pytest.raises(fonts.FontMissing, match="is not a file"):
        fonts.choose("/nonexistent/font.ttc")
    with pytest.raises(fonts.FontMissing, match="holds no face named"):
        fonts.choose(fonts.choose().path, "No Such Face")


def test_a_client_with_nothing_recorded_gets_none_recorded_sections(tmp_path):
    doc = sample()
    doc.update(abnormal=[], trends=[], risks=[], advice=None, tags=[])
    pdf, _seal, _keys = _print(doc)
    text = pdf_text(pdf, tmp_path)
    assert text.count("暂无记录") == 7


def test_the_common_cut_is_used_only_when_it_covers_the_document(tmp_path):
    """A cut of a face to GB 2312 and friends (built here from DejaVu, which is quick to cut):
    used for ordinary text, the full face for a character outside the common set."""
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not dejavu.is_file():
        pytest.skip("no DejaVu font to cut")
    full = fonts.FontChoice(str(dejavu), 0, "DejaVu Sans")
    assert fonts.with_common_cut(full, tmp_path) == full  # not built yet: the full face
    built = fonts.build_common_cut(full, tmp_path)
    assert built.is_file() and built.stat().st_size < dejavu.stat().st_size
    assert fonts.build_common_cut(full, tmp_path) == built  # once
    cut = fonts.with_common_cut(full, tmp_path)
    assert cut.for_text(set("张三 Health 123 ■")) == (str(built), 0)
    assert cut.for_text(set("王䶮")) == (str(dejavu), 0)  # 䶮 is not in GB 2312
    assert "喆" not in fonts.common_charset() or "喆".encode("gb2312")


def test_the_cut_and_the_full_face_draw_the_same_pages():
    """What the verifier relies on: a report drawn with the cut and the full face has the same
    drawing instructions (fpdf2 numbers the glyphs it embeds itself)."""
    doc = sample()
    full = need_font()
    key = Ed25519PrivateKey.generate()
    canonical = document.canonical_json(doc)
    seal = make_seal(canonical, print_id=doc["print"]["id"], key_id=KEY_ID, sign=key.sign,
                     renderer=render.RENDERER)  # fmt: skip
    from careledger.reports.verify import page_drawings

    def drawings(choice):  # type: ignore[no-untyped-def]
        return page_drawings(PdfReader(io.BytesIO(render.render(doc, canonical, seal, choice))))

    from django.conf import settings

    cache = Path(settings.CARELEDGER_VAR_DIR) / "cache" / "fonts"
    fonts.build_common_cut(full, cache)  # once per var dir (tens of seconds the first time)
    cut = fonts.with_common_cut(full, cache)
    assert cut.for_text(render._characters(doc)) == (cut.common_path, 0)
    assert drawings(cut) == drawings(full)
