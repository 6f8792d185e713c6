"""Draw the printed report from its document. Pure: no Django, no database, no clock.

Everything on the pages comes from the document (`careledger.reports.document`) and its seal:
the labels too, translated when the report was printed, so drawing the same document again
gives the same pages (the verifier relies on that). fpdf2 embeds the subset of the CJK font the
report uses (decision 0024); each page gets the watermark in `header()`, drawn first so the
content sits on top of it, and the footer with the page number, the print id and how to check
the report. The QR code is drawn as vector squares from `qrcode`'s module matrix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import fpdf
import qrcode
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

from careledger.reports import charts
from careledger.reports.fonts import FontChoice
from careledger.reports.seal import DOCUMENT_FILE, SEAL_FILE, Seal

RENDERER = f"fpdf2 {fpdf.__version__}"
FONT = "cjk"
MARGIN = 15.0
QR_SIZE = 30.0
CHART_W, CHART_H = 88.0, 42.0


class _Report(FPDF):
    def __init__(self, doc: dict[str, Any], seal: Seal) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc = doc
        self.seal = seal
        self.labels: dict[str, str] = doc["labels"]
        self.set_margins(MARGIN, MARGIN + 3, MARGIN)
        self.set_auto_page_break(True, margin=18)

    def header(self) -> None:
        """The watermark: viewer, role, time and purpose, repeated across the page at 35°."""
        mark = self.doc["print"]["watermark"]
        self.set_font(FONT, size=11)
        self.set_text_color(150, 150, 150)
        with self.local_context(fill_opacity=0.18, text_color=(150, 150, 150)):
            for row in range(7):
                for col in range(2):
                    x, y = 10 + col * 100 + (row % 2) * 30, 40 + row * 40
                    with self.rotation(35, x, y):
                        self.text(x, y, mark)
        self.set_text_color(0, 0, 0)
        self.set_xy(MARGIN, MARGIN + 3)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, size=7)
        self.set_text_color(90, 90, 90)
        text = self.labels["footer"].format(
            page=self.page_no(), pages="{nb}", print_id=self.seal.print_id
        )
        self.cell(0, 4, text, align="C")
        self.set_text_color(0, 0, 0)


def _qr(pdf: FPDF, payload: str, x: float, y: float, size: float) -> None:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(payload)
    code.make(fit=True)
    matrix = code.get_matrix()
    quiet = 2  # modules of white border around the code, drawn as a white box
    cell = size / (len(matrix) + 2 * quiet)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):  # runs of dark modules as one rectangle each
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(
                x + (quiet + start) * cell, y + (quiet + r) * cell, (c - start) * cell, cell, "F"
            )


def _heading(pdf: _Report, key: str) -> None:
    if pdf.get_y() > 255:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font_size(12)
    pdf.set_fill_color(236, 242, 248)
    pdf.cell(0, 7, pdf.labels[key], fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_font_size(9)


def _para(pdf: FPDF, text: str, *, size: float = 9, h: float = 4.6, indent: float = 0) -> None:
    pdf.set_font_size(size)
    pdf.set_x(MARGIN + indent)
    pdf.multi_cell(
        0, h, text, wrapmode=WrapMode.CHAR, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )


def _none(pdf: _Report) -> None:
    pdf.set_text_color(110, 110, 110)
    _para(pdf, pdf.labels["none_recorded"])
    pdf.set_text_color(0, 0, 0)


def _title(pdf: _Report) -> None:
    doc, labels = pdf.doc, pdf.labels
    top = pdf.get_y()
    pdf.set_font_size(16)
    pdf.cell(0, 9, doc["institution"]["name"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font_size(13)
    pdf.cell(0, 8, labels["title"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font_size(8)
    pdf.set_text_color(80, 80, 80)
    printed = doc["print"]
    for line in (
        f"{labels['printed_at']}: {printed['at']}    {labels['print_id']}: {pdf.seal.print_id}",
        f"{labels['printed_by']}: {printed['viewer']} ({printed['role']})    "
        f"{labels['purpose']}: {printed['purpose']}",
        labels["verify_hint"],
    ):
        pdf.cell(0, 4.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    _qr(pdf, pdf.seal.qr_payload, pdf.w - MARGIN - QR_SIZE, top, QR_SIZE)
    pdf.set_y(max(pdf.get_y(), top + QR_SIZE + 1))


def _client(pdf: _Report) -> None:
    _heading(pdf, "client")
    client, labels = pdf.doc["client"], pdf.labels
    rows = [(labels[k], client[k]) for k in ("name", "sex", "age", "card_number")]
    rows += [(labels[k], client[k]) for k in ("document_number", "phone") if client.get(k)]
    for n, (label, value) in enumerate(rows):
        pdf.set_x(MARGIN + (n % 2) * 90)
        pdf.cell(28, 5.5, f"{label}:")
        pdf.cell(60, 5.5, str(value) or "—")
        if n % 2 == 1 or n == len(rows) - 1:
            pdf.ln(5.5)
    if client.get("masked"):
        pdf.set_text_color(110, 110, 110)
        _para(pdf, labels["masked_note"], size=8)
        pdf.set_text_color(0, 0, 0)


def _abnormal(pdf: _Report) -> None:
    _heading(pdf, "abnormal")
    rows, labels = pdf.doc["abnormal"], pdf.labels
    if not rows:
        _none(pdf)
        return
    widths = (60, 28, 22, 16, 28, 26)
    heads = ("indicator", "value", "unit", "flag", "range", "date")
    pdf.set_font_size(8.5)
    pdf.set_fill_color(245, 245, 245)
    for w, key in zip(widths, heads, strict=True):
        pdf.cell(w, 5.5, labels[f"col_{key}"], border="B", fill=True)
    pdf.ln(5.5)
    for row in rows:
        if pdf.get_y() > 270:
            pdf.add_page()
        flag = row["flag"]
        for w, key in zip(widths, heads, strict=True):
            if key == "flag":
                pdf.set_text_color(
                    *((200, 30, 30) if flag.startswith(("H", "L", "A")) else (0,) * 3)
                )
            pdf.cell(w, 5.2, row[key])
            pdf.set_text_color(0, 0, 0)
        pdf.ln(5.2)


def _trends(pdf: _Report) -> None:
    _heading(pdf, "trends")
    series = pdf.doc["trends"]
    if not series:
        _none(pdf)
        return
    for n, one in enumerate(series):
        if n % 2 == 0:
            if pdf.get_y() + CHART_H > 275:
                pdf.add_page()
            y = pdf.get_y()
        x = MARGIN + (n % 2) * (CHART_W + 4)
        charts.draw(pdf, x, y, CHART_W, CHART_H, one)
        if n % 2 == 1 or n == len(series) - 1:
            pdf.set_xy(MARGIN, y + CHART_H + 2)
    pdf.set_font_size(9)


def _risks(pdf: _Report) -> None:
    _heading(pdf, "risks")
    risks = pdf.doc["risks"]
    if not risks:
        _none(pdf)
        return
    for risk in risks:
        pdf.set_font_size(9.5)
        _para(pdf, f"■ {risk['title']}: {risk['result']}", size=9.5, h=5)
        if risk["inputs"]:
            _para(pdf, f"{pdf.labels['inputs']}: " + "；".join(risk["inputs"]), size=7.5, h=3.8,
                  indent=4)  # fmt: skip
        if risk["citation"]:
            pdf.set_text_color(90, 90, 90)
            _para(pdf, f"{pdf.labels['source']}: {risk['citation']}", size=7, h=3.6, indent=4)
            pdf.set_text_color(0, 0, 0)


def _advice(pdf: _Report) -> None:
    _heading(pdf, "advice")
    advice = pdf.doc["advice"]
    if not advice:
        _none(pdf)
        return
    pdf.set_text_color(90, 90, 90)
    _para(pdf, advice["issued"], size=8)
    pdf.set_text_color(0, 0, 0)
    for section in advice["sections"]:
        _para(pdf, section["domain"], size=10, h=6)
        for item in section["items"]:
            _para(pdf, f"• {item['title']}", size=9, h=4.8, indent=3)
            _para(pdf, item["body"], size=8.5, h=4.4, indent=6)
            if item["citation"]:
                pdf.set_text_color(90, 90, 90)
                _para(pdf, item["citation"], size=7, h=3.6, indent=6)
                pdf.set_text_color(0, 0, 0)
    if advice.get("note"):
        _para(pdf, f"{pdf.labels['note']}: {advice['note']}", size=9, indent=3)


def _tags(pdf: _Report) -> None:
    _heading(pdf, "tags")
    tags = pdf.doc["tags"]
    if not tags:
        _none(pdf)
        return
    _para(pdf, "、".join(tags))


def _not_yet(pdf: _Report) -> None:
    for key in pdf.doc["not_recorded"]:
        _heading(pdf, key)
        _none(pdf)


SECTIONS: tuple[Callable[[_Report], None], ...] = (
    _title,
    _client,
    _abnormal,
    _trends,
    _risks,
    _advice,
    _tags,
    _not_yet,
)


def _characters(doc: Any) -> set[str]:
    """Every character the document can put on a page (values, labels, the print block)."""
    if isinstance(doc, str):
        return set(doc)
    if isinstance(doc, dict):
        found: set[str] = set()
        for key, value in doc.items():
            found |= set(str(key)) | _characters(value)
        return found
    if isinstance(doc, list):
        return set().union(*(_characters(v) for v in doc)) if doc else set()
    return set(str(doc))


def render(doc: dict[str, Any], canonical: bytes, seal: Seal, font: FontChoice) -> bytes:
    """The PDF of `doc` (whose canonical bytes are `canonical`), sealed by `seal`."""
    pdf = _Report(doc, seal)
    path, index = font.for_text(_characters(doc))
    pdf.add_font(FONT, "", path, collection_font_number=index)
    # The subset keeps the full font's bounding box instead of measuring every glyph's outline
    # again when it is written (a CFF font's outlines are interpreted to do it: ~30 % of the
    # render time); a too-large font box is harmless to every reader.
    pdf.fonts[FONT].ttfont.recalcBBoxes = False
    pdf.set_font(FONT, size=9)
    printed = dt.datetime.fromisoformat(doc["print"]["at_iso"])
    pdf.set_creation_date(printed)
    pdf.set_title(doc["labels"]["title"])
    pdf.set_author(doc["institution"]["name"])
    pdf.set_creator(RENDERER)
    pdf.add_page()
    for section in SECTIONS:
        section(pdf)
    pdf.embed_file(
        basename=DOCUMENT_FILE,
        bytes=canonical,
        modification_date=printed,
        mime_type="application/json",
        desc="CareLedger report content (canonical JSON; its SHA-256 is signed)",
    )
    pdf.embed_file(
        basename=SEAL_FILE,
        bytes=seal.to_json(),
        modification_date=printed,
        mime_type="application/json",
        desc="CareLedger report seal (Ed25519 over the content hash)",
    )
    return bytes(pdf.output())
