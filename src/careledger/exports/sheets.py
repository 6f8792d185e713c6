"""Writing an export as CSV or XLSX, watermarked and safe to open in a spreadsheet. Pure.

Why here and not in the view: the file is the thing that leaves, so what it carries (the
watermark) and what it cannot do (run a formula) must hold whatever calls the writer.

* **Watermark.** Requester, approver, purpose, request id and time go into the file itself —
  XLSX document properties and a 水印 sheet; in CSV, the first line (a `#` row naming every
  part) — and into the first row above the data header, so a screenshot or a pasted range
  still names who took it out and why.
* **Formula injection** (OWASP CSV injection): a text cell that begins with `=`, `+`, `-`, `@`,
  a tab or a carriage return would be run as a formula by Excel, WPS or LibreOffice; it gets a
  leading `'` so it is shown as text. Numbers stay numbers (a negative result is data, and
  XLSX stores it as a number, not a formula). The same rule as `audit.selectors`, vectorised.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from openpyxl import Workbook

FORMULA_START = r"^[=+\-@\t\r]"
WATERMARK_SHEET = "水印 Watermark"
DATA_SHEET = "数据 Data"


@dataclass(frozen=True)
class Watermark:
    request_id: str
    requester: str
    approver: str
    purpose: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    institution: str = ""
    note: str = ""  # e.g. "de-identified, k=5 achieved 7"

    def pairs(self) -> list[tuple[str, str]]:
        return [
            ("导出编号 request id", self.request_id),
            ("申请人 requester", self.requester),
            ("审批人 approver", self.approver),
            ("用途 purpose", self.purpose),
            ("机构 institution", self.institution),
            ("生成时间 issued", self.issued_at.isoformat(timespec="seconds")),
            ("失效时间 expires", self.expires_at.isoformat(timespec="seconds")),
            ("说明 note", self.note),
        ]

    def line(self) -> str:
        return " | ".join(f"{k}: {v}" for k, v in self.pairs())


def neutralise(cell: str) -> str:
    """One cell: prefix `'` when a spreadsheet would take it as a formula."""
    if cell and cell[0] in "=+-@\t\r":
        return "'" + cell
    return cell


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of the frame, vectorised; other types untouched."""
    text = [c for c, t in frame.schema.items() if t == pl.Utf8]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def _stringify_dates(frame: pl.DataFrame) -> pl.DataFrame:
    temporal = [c for c, t in frame.schema.items() if t.is_temporal()]
    return frame.with_columns(pl.col(c).cast(pl.Utf8) for c in temporal)


def to_csv(frame: pl.DataFrame, watermark: Watermark, headers: Sequence[str]) -> bytes:
    """UTF-8 with BOM (Excel opens Chinese correctly), watermark line first, then the data."""
    safe = neutralise_frame(_stringify_dates(frame))
    head = io.StringIO()
    writer = csv.writer(head, lineterminator="\r\n")
    writer.writerow([neutralise("# " + watermark.line())])
    writer.writerow([neutralise(h) for h in headers])
    body = safe.write_csv(include_header=False, line_terminator="\r\n", quote_style="necessary")
    return ("\ufeff" + head.getvalue() + body).encode("utf-8")


def to_xlsx(frame: pl.DataFrame, watermark: Watermark, headers: Sequence[str]) -> bytes:
    """A data sheet (watermark row, header row, rows) and a watermark sheet; properties too."""
    safe = neutralise_frame(_stringify_dates(frame))
    book = Workbook(write_only=True)
    props = book.properties
    props.creator = watermark.requester
    props.lastModifiedBy = watermark.approver
    props.title = f"CareLedger export {watermark.request_id}"
    props.subject = watermark.purpose
    props.description = watermark.line()
    props.keywords = watermark.request_id
    data = book.create_sheet(DATA_SHEET)
    data.append([neutralise(watermark.line())])
    data.append([neutralise(h) for h in headers])
    for row in safe.iter_rows():
        data.append(list(row))
    mark = book.create_sheet(WATERMARK_SHEET)
    for key, value in watermark.pairs():
        mark.append([key, neutralise(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
