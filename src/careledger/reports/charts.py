"""Trend charts drawn as PDF vector graphics (lines, rectangles, text), from the document's
points alone. Pure: no Django; takes an fpdf2 `FPDF` and a box.

Vector rather than a bitmap: sharp at any print resolution, a few hundred bytes per chart, and
the same document always draws the same chart (the verifier re-draws it to compare).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fpdf import FPDF

GRID = (200, 200, 200)
LINE = (31, 119, 180)
BAND = (223, 240, 216)
ABNORMAL = (200, 30, 30)


def _num(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _day(text: str) -> float:
    return dt.date.fromisoformat(text).toordinal()


def draw(pdf: FPDF, x: float, y: float, w: float, h: float, series: dict[str, Any]) -> None:
    """One indicator: title and unit, the reference band shaded, the points joined, abnormal
    points in red, the value range on the left and the first and last dates below."""
    pdf.set_font_size(8.5)
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(x, y)
    title = series["name"] + (f" ({series['unit']})" if series.get("unit") else "")
    pdf.cell(w, 4, title)
    top, left, bottom, right = y + 5, x + 10, y + h - 5, x + w - 2
    points = [
        (_day(p["at"]), v, p.get("flag", ""))
        for p in series["points"]
        if (v := _num(p["value"])) is not None
    ]
    low, high = _num(series.get("low")), _num(series.get("high"))
    values = [v for _d, v, _f in points] + [b for b in (low, high) if b is not None]
    vmin, vmax = min(values), max(values)
    if vmax - vmin < 1e-9:
        vmin, vmax = vmin - 1, vmax + 1
    pad = (vmax - vmin) * 0.1
    vmin, vmax = vmin - pad, vmax + pad
    dmin, dmax = points[0][0], points[-1][0]
    span = max(dmax - dmin, 1.0)

    def px(day: float) -> float:
        return left + (day - dmin) / span * (right - left) if dmax > dmin else (left + right) / 2

    def py(value: float) -> float:
        return bottom - (value - vmin) / (vmax - vmin) * (bottom - top)

    if low is not None or high is not None:
        band_top = py(high if high is not None else vmax)
        band_bottom = py(low if low is not None else vmin)
        pdf.set_fill_color(*BAND)
        pdf.rect(left, band_top, right - left, band_bottom - band_top, style="F")
    pdf.set_draw_color(*GRID)
    pdf.set_line_width(0.2)
    pdf.rect(left, top, right - left, bottom - top)
    pdf.set_font_size(6.5)
    pdf.set_text_color(90, 90, 90)
    for value in (vmin + pad, vmax - pad):
        pdf.set_xy(x, py(value) - 1.5)
        pdf.cell(9.5, 3, f"{value:g}" if abs(value) >= 100 else f"{value:.3g}", align="R")
    pdf.set_xy(left, bottom + 0.5)
    pdf.cell(30, 3, series["points"][0]["at"])
    pdf.set_xy(right - 30, bottom + 0.5)
    pdf.cell(30, 3, series["points"][-1]["at"], align="R")
    pdf.set_draw_color(*LINE)
    pdf.set_line_width(0.5)
    coords = [(px(d), py(v)) for d, v, _f in points]
    if len(coords) > 1:
        pdf.polyline(coords)
    for (cx, cy), (_d, _v, flag) in zip(coords, points, strict=True):
        pdf.set_fill_color(*(ABNORMAL if flag not in ("", "N") else LINE))
        pdf.ellipse(cx - 0.9, cy - 0.9, 1.8, 1.8, style="F")
    pdf.set_text_color(0, 0, 0)
