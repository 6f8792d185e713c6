"""CSV and XLSX exports of an exam centre's system → `ParsedReport`s, through a `ColumnMapping`.

Two layouts:

* "long": one row per result (columns for identity, report id, date, code, item name, value,
  unit, range, flag). Rows group into reports by report id when the mapping has that column and
  the cell is filled, else by (ID number or card number, date).
* "wide": one row per exam: identity and date columns plus one column per result,
  `results = {header: unit}`; an empty unit takes it from the header ("空腹血糖(mmol/L)"). An
  empty result cell means "not tested" and is skipped without a problem.

Headers are matched after NFKC folding (full-width → half-width), trimming, collapsing spaces
and case-folding. A mapped column the file lacks → `FileUnreadable` naming it. Row numbers are
the spreadsheet's own: the header is row `header_row` (1 by default), the first data row the
next one. A bad row becomes a problem naming "row N", the column header and the reason; the
other rows land.

Memory: CSV is read by `csv.reader` over the decoded text, XLSX by openpyxl in read-only mode
(rows streamed from the zip, no DOM of the sheet); only the grouped results are held.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from careledger.exams.parsers import common
from careledger.exams.parsers.decoding import decoded_lines, detect
from careledger.exams.parsers.types import (
    FileUnreadable,
    ParsedReport,
    ParsedResult,
    ParseOutcome,
    ParseProblem,
    PatientIds,
    Reason,
)

LAYOUTS = ("long", "wide")
DELIMITERS = (",", ";", "\t", "|")
_IDENTITY = ("id_number", "card_number", "name", "sex", "birth_date", "report_id", "date")
_LONG_ONLY = ("code", "item_name", "value", "unit", "reference_range", "flag")
_MAX_HEADER = 200
# Excel serial day numbers accepted in a date column: 1954-10-03 … 2119-01-09. A number outside
# is not a date of a check-up (an ID typed into the wrong column, a year).
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000


class MappingError(ValueError):
    """A column mapping that cannot be used; `errors` maps each field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class ColumnMapping:
    """Which column holds what, saved per source (an admin screen edits `to_dict()`).

    Column values are header texts as the file writes them ("" = not in this file).
    """

    layout: str = "long"
    id_number: str = ""
    card_number: str = ""
    name: str = ""
    sex: str = ""
    birth_date: str = ""
    report_id: str = ""
    date: str = ""
    # long layout
    code: str = ""
    item_name: str = ""
    value: str = ""
    unit: str = ""
    reference_range: str = ""
    flag: str = ""
    # wide layout: result column header → unit ("" = from the header's "(unit)", else none)
    results: dict[str, str] = field(default_factory=dict)
    # reading
    sheet: str = ""  # XLSX sheet name; "" = the first sheet
    header_row: int = 1
    delimiter: str = ""  # CSV; "" = sniffed from the header line
    encoding: str = ""  # CSV; "" = BOM / UTF-8 / GB18030 detection

    def validate(self) -> dict[str, str]:
        """Every problem at once, field → English message (empty: usable)."""
        errors: dict[str, str] = {}
        if self.layout not in LAYOUTS:
            errors["layout"] = f"layout must be one of {', '.join(LAYOUTS)}"
        for name in (*_IDENTITY, *_LONG_ONLY, "sheet"):
            value = getattr(self, name)
            if not isinstance(value, str):
                errors[name] = "must be a column header (text)"
            elif len(value) > _MAX_HEADER:
                errors[name] = f"a column header has at most {_MAX_HEADER} characters"
        if errors:
            return errors
        if not self.id_number and not self.card_number:
            errors["id_number"] = "map the ID number column, the card number column or both"
        if not self.date:
            errors["date"] = "map the exam date column"
        if self.layout == "long":
            if not self.value:
                errors["value"] = "map the result value column (long layout)"
            if not self.code and not self.item_name:
                errors["code"] = "map the item code or the item name column (long layout)"
        elif self.layout == "wide":
            if not isinstance(self.results, dict) or not self.results:
                errors["results"] = "map at least one result column (wide layout)"
            else:
                for header, unit in self.results.items():
                    if not isinstance(header, str) or not header.strip():
                        errors["results"] = "a result column header is empty"
                    elif not isinstance(unit, str) or len(header) > _MAX_HEADER:
                        errors["results"] = f"result column {header[:40]!r}: unit must be text"
        if not isinstance(self.header_row, int) or isinstance(self.header_row, bool):
            errors["header_row"] = "header row must be a whole number"
        elif not 1 <= self.header_row <= 1000:
            errors["header_row"] = "header row must be between 1 and 1000"
        if self.delimiter not in ("", *DELIMITERS):
            errors["delimiter"] = "delimiter must be one of , ; tab | or empty (sniffed)"
        if self.encoding and not isinstance(self.encoding, str):
            errors["encoding"] = "encoding must be a charset name"
        used: dict[str, str] = {}
        for name in _IDENTITY + (_LONG_ONLY if self.layout == "long" else ()):
            header = _fold(getattr(self, name))
            if header and header in used:
                errors[name] = f"column already mapped to {used[header]}"
            elif header:
                used[header] = name
        return errors

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnMapping:
        """Build and validate; raises MappingError with every problem at once."""
        if not isinstance(data, dict):
            raise MappingError({"__all__": "a column mapping is an object of field → column"})
        known = {f.name for f in fields(cls)}
        errors = {k: "unknown field" for k in data if k not in known}
        values = {k: v for k, v in data.items() if k in known}
        if "results" in values and isinstance(values["results"], dict):
            values["results"] = dict(values["results"])
        mapping = cls(**values)
        errors.update(mapping.validate())
        if errors:
            raise MappingError(errors)
        return mapping


# --------------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------------


def _fold(header: object) -> str:
    if header is None:
        return ""
    text = unicodedata.normalize("NFKC", str(header)).replace("\ufeff", "")
    return re.sub(r"\s+", " ", text).strip().casefold()


_UNIT_IN_HEADER = re.compile(r"^(?P<name>.*?)\s*[(（\[【](?P<unit>[^()（）\[\]【】]+)[)）\]】]\s*$")


def split_header_unit(header: str) -> tuple[str, str]:
    """ "空腹血糖(mmol/L)" → ("空腹血糖", "mmol/L"); "身高" → ("身高", "")."""
    match = _UNIT_IN_HEADER.match(header.strip())
    if match and match.group("name"):
        return match.group("name").strip(), unicodedata.normalize("NFKC", match.group("unit"))
    return header.strip(), ""


_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id_number": (
        "身份证号",
        "身份证号码",
        "身份证",
        "证件号码",
        "证件号",
        "身份证件号码",
        "id_number",
        "idcard",
        "id card",
    ),
    "card_number": ("卡号", "会员卡号", "就诊卡号", "体检卡号", "card_number", "card no", "card"),
    "name": ("姓名", "name", "客户姓名", "受检者"),
    "sex": ("性别", "sex", "gender"),
    "birth_date": ("出生日期", "生日", "birth_date", "dob", "birthday"),
    "report_id": ("体检号", "体检编号", "报告编号", "报告号", "report_id", "exam_no"),
    "date": (
        "体检日期",
        "检查日期",
        "检验日期",
        "报告日期",
        "采样日期",
        "日期",
        "date",
        "exam_date",
    ),
    "code": ("项目代码", "项目编码", "代码", "编码", "code", "item_code", "loinc"),
    "item_name": ("项目名称", "项目", "检查项目", "检验项目", "指标", "item", "item_name"),
    "value": ("结果", "检查结果", "检验结果", "结果值", "value", "result"),
    "unit": ("单位", "unit", "units"),
    "reference_range": ("参考范围", "参考值", "参考区间", "reference_range", "range"),
    "flag": ("提示", "异常提示", "结果提示", "标志", "异常标志", "flag"),
}


def sniff_mapping(headers: list[str]) -> ColumnMapping | None:
    """A mapping for a typical Chinese (or plain English) export, or None.

    Long when a value column and a code or item-name column are present; else wide with every
    column whose header names a unit in brackets ("空腹血糖(mmol/L)"): a header without a unit
    (电话, 年龄, 工作单位) is not taken for a result, so an unknown column never carries a phone
    number into the results; such exports need a saved mapping.
    """
    folded = {_fold(h): h for h in reversed(headers) if h is not None and _fold(h)}
    found: dict[str, str] = {}
    for role, names in _SYNONYMS.items():
        for name in names:
            if _fold(name) in folded:
                found[role] = folded[_fold(name)]
                break
    if not (found.get("id_number") or found.get("card_number")) or not found.get("date"):
        return None
    if found.get("value") and (found.get("code") or found.get("item_name")):
        return ColumnMapping(layout="long", **found)
    used = set(found.values())
    results = {
        str(h): ""
        for h in headers
        if h is not None and str(h) not in used and split_header_unit(str(h))[1]
    }
    if not results:
        return None
    ident = {k: v for k, v in found.items() if k in _IDENTITY}
    return ColumnMapping(layout="wide", results=results, **ident)


# --------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------


def format_number(value: float | int | Decimal) -> str:
    """A number cell as text without binary noise: 15 significant digits, as Excel shows it
    (5.6000000000000005 → "5.6"), no exponent (1e-05 → "0.00001"), integers without ".0"."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    try:
        dec = Decimal(f"{value:.15g}") if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        return str(value)
    if not dec.is_finite():
        return str(value)
    text = format(dec, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float, Decimal)):
        return format_number(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def cell_datetime(value: object, epoch: dt.datetime | None = None) -> dt.datetime:
    """A date cell: a datetime/date (XLSX date cell), an Excel serial number (the sheet's epoch,
    1900 by default), or text in any usual written form. Raises ValueError."""
    if isinstance(value, dt.datetime):
        return common.aware(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=common.SHANGHAI)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _from_serial(float(value), epoch)
    text = cell_text(value)
    if not text:
        raise ValueError("empty")
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _from_serial(float(text), epoch)
    return common.parse_loose_datetime(text)


def _from_serial(serial: float, epoch: dt.datetime | None) -> dt.datetime:
    from openpyxl.utils.datetime import from_excel

    if not _SERIAL_MIN <= serial <= _SERIAL_MAX:
        raise ValueError(f"number {format_number(serial)} is not an Excel date serial")
    value = from_excel(serial, epoch=epoch) if epoch else from_excel(serial)
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return value.replace(tzinfo=common.SHANGHAI)


# --------------------------------------------------------------------------------------------
# Reading rows
# --------------------------------------------------------------------------------------------


@dataclass
class _Sheet:
    rows: Iterator[tuple[int, list[object]]]  # spreadsheet row number, cells
    encoding: str
    epoch: dt.datetime | None = None
    # Identity cells → (patient, report id, date, warning): a person's rows repeat the same
    # identity, and validating an ID number and a date per row is most of the cost.
    identities: dict[tuple[object, ...], tuple[Any, ...]] = field(default_factory=dict)


def _sniff_delimiter(first: str) -> str:
    """The delimiter of the header line: the candidate that occurs most outside quotes."""
    counts = {d: _count_outside_quotes(first, d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delim: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delim and not quoted:
            count += 1
    return count


def _csv_rows(data: bytes, mapping: ColumnMapping | None) -> _Sheet:
    encoding = detect(data, mapping.encoding if mapping else "")
    first_line = next((line for line in decoded_lines(data, encoding) if line.strip()), "")
    delimiter = (mapping.delimiter if mapping else "") or _sniff_delimiter(first_line)

    def rows() -> Iterator[tuple[int, list[object]]]:
        reader = csv.reader(decoded_lines(data, encoding), delimiter=delimiter)
        number = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _RowError(number + 1, f"CSV syntax: {exc}") from None
            number += 1
            yield number, list(row)

    return _Sheet(rows(), encoding)


class _RowError(Exception):
    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


def _xlsx_rows(data: bytes, mapping: ColumnMapping | None) -> _Sheet:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise FileUnreadable(
            Reason.UNREADABLE, f"not a readable XLSX workbook ({type(exc).__name__})"
        ) from None
    except Exception as exc:  # openpyxl raises many types on corrupt parts
        raise FileUnreadable(
            Reason.UNREADABLE, f"not a readable XLSX workbook ({type(exc).__name__})"
        ) from None
    sheet_name = mapping.sheet if mapping else ""
    if sheet_name:
        if sheet_name not in workbook.sheetnames:
            raise FileUnreadable(
                Reason.UNREADABLE,
                f"the workbook has no sheet named {sheet_name!r} "
                f"(sheets: {', '.join(workbook.sheetnames[:10])})",
            )
        sheet = workbook[sheet_name]
    else:
        if not workbook.worksheets:
            raise FileUnreadable(Reason.UNREADABLE, "the workbook has no worksheet")
        sheet = workbook.worksheets[0]
    if hasattr(sheet, "reset_dimensions"):
        # Exporters write wrong <dimension> elements; read until the real last row.
        sheet.reset_dimensions()

    def rows() -> Iterator[tuple[int, list[object]]]:
        try:
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(row)
        except FileUnreadable:
            raise
        except Exception as exc:
            raise FileUnreadable(
                Reason.UNREADABLE, f"the worksheet XML is corrupt ({type(exc).__name__})"
            ) from None
        finally:
            workbook.close()

    return _Sheet(rows(), "xlsx", getattr(workbook, "epoch", None))


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def parse_csv(data: bytes, *, mapping: ColumnMapping | None, now: dt.datetime) -> ParseOutcome:
    return _parse(_csv_rows(data, mapping), mapping, now)


def parse_xlsx(data: bytes, *, mapping: ColumnMapping | None, now: dt.datetime) -> ParseOutcome:
    return _parse(_xlsx_rows(data, mapping), mapping, now)


@dataclass
class _Group:
    key: tuple[str, ...]
    patient: PatientIds
    report_id: str
    effective_at: dt.datetime
    rows: list[int] = field(default_factory=list)
    results: list[ParsedResult] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    warnings: list[ParseProblem] = field(default_factory=list)


class _Columns:
    """Mapped role → column index, resolved against the header row."""

    def __init__(self, header: list[object], mapping: ColumnMapping) -> None:
        self.header = [cell_text(h) for h in header]
        positions: dict[str, int] = {}
        for i, h in enumerate(self.header):
            positions.setdefault(_fold(h), i)
        self.index: dict[str, int] = {}
        roles = _IDENTITY + (_LONG_ONLY if mapping.layout == "long" else ())
        missing = []
        for role in roles:
            wanted = getattr(mapping, role)
            if not wanted:
                continue
            pos = positions.get(_fold(wanted))
            if pos is None:
                missing.append(wanted)
            else:
                self.index[role] = pos
        self.results: list[tuple[int, str, str, str]] = []  # index, header, name, unit
        if mapping.layout == "wide":
            for wanted, unit in mapping.results.items():
                pos = positions.get(_fold(wanted))
                if pos is None:
                    missing.append(wanted)
                    continue
                name, header_unit = split_header_unit(self.header[pos])
                self.results.append((pos, self.header[pos], name, unit or header_unit))
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5])
            raise FileUnreadable(
                Reason.UNREADABLE,
                f"mapped column{'s' if len(missing) > 1 else ''} {shown} not found in the "
                f"header row ({len(missing)} missing)",
            )

    def raw(self, row: list[object], role: str) -> object:
        pos = self.index.get(role)
        if pos is None or pos >= len(row):
            return None
        return row[pos]

    def text(self, row: list[object], role: str) -> str:
        return cell_text(self.raw(row, role))

    def name_of(self, role: str) -> str:
        pos = self.index.get(role)
        return self.header[pos] if pos is not None else role


def _parse(sheet: _Sheet, mapping: ColumnMapping | None, now: dt.datetime) -> ParseOutcome:
    header_row = mapping.header_row if mapping else 1
    problems: list[ParseProblem] = []
    groups: dict[tuple[str, ...], _Group] = {}
    units = 0
    columns: _Columns | None = None
    try:
        for number, row in sheet.rows:
            if number < header_row:
                continue
            if columns is None:
                if number == header_row:
                    if mapping is None:
                        mapping = sniff_mapping([cell_text(h) for h in row])
                        if mapping is None:
                            raise FileUnreadable(
                                Reason.UNREADABLE,
                                "no column mapping is saved for this source and the header row "
                                "is not a recognised export (身份证号/卡号, 体检日期, 项目, 结果…)",
                            )
                    columns = _Columns(row, mapping)
                continue
            if not any(c is not None and (not isinstance(c, str) or c.strip()) for c in row):
                continue
            units += 1
            assert mapping is not None
            if mapping.layout == "long":
                _long_row(number, row, columns, sheet, now, groups, problems)
            else:
                _wide_row(number, row, columns, sheet, now, groups, problems)
    except _RowError as exc:
        problems.append(
            ParseProblem(
                f"row {exc.row}",
                "row",
                Reason.MALFORMED,
                f"{exc.message}; this row and the rest of the file were not read",
            )
        )
    if columns is None:
        raise FileUnreadable(Reason.UNREADABLE, f"the file has no header row (row {header_row})")

    reports: list[ParsedReport] = []
    for group in groups.values():
        if not group.results:
            problems.extend(group.problems)
            continue
        index = len(reports)
        first, last = min(group.rows), max(group.rows)
        reports.append(
            ParsedReport(
                index=index,
                location=f"row {first}" if first == last else f"rows {first}-{last}",
                patient=group.patient,
                source_report_id=group.report_id,
                effective_at=group.effective_at,
                results=group.results,
            )
        )
        for p in (*group.problems, *group.warnings):
            problems.append(
                ParseProblem(p.location, p.field, p.reason, p.message, index, p.warning)
            )
    return ParseOutcome(
        reports=reports, problems=problems, encoding=sheet.encoding, units_read=units
    )


_IDENTITY_CACHE_MAX = 50_000


def _cached_identity(
    number: int, row: list[object], columns: _Columns, now: dt.datetime, sheet: _Sheet
) -> tuple[PatientIds, str, dt.datetime, ParseProblem | None] | ParseProblem:
    key = tuple(columns.raw(row, role) for role in _IDENTITY)
    hit = sheet.identities.get(key)
    if hit is not None:
        patient, report_id, when, warning = hit
        if warning is not None:
            warning = replace(warning, location=f"row {number}")
        return patient, report_id, when, warning
    got = _identity(number, row, columns, now, sheet.epoch)
    if not isinstance(got, ParseProblem):
        if len(sheet.identities) >= _IDENTITY_CACHE_MAX:
            sheet.identities.clear()
        sheet.identities[key] = got
    return got


def _identity(
    number: int, row: list[object], columns: _Columns, now: dt.datetime, epoch: dt.datetime | None
) -> tuple[PatientIds, str, dt.datetime, ParseProblem | None] | ParseProblem:
    """Patient, report id and date of a row, or the row's problem."""
    loc = f"row {number}"
    today = common.aware(now).date()
    raw_id = columns.text(row, "id_number")
    card = columns.text(row, "card_number")
    # An ID number typed into a number cell: Excel keeps 15 significant digits, the last three
    # are gone for good. Said so, instead of a puzzling check-digit failure.
    id_cell = columns.raw(row, "id_number")
    as_number = isinstance(id_cell, float) and abs(id_cell) >= 1e14
    id_number = common.valid_id_number(raw_id, today) if raw_id and not as_number else None
    warning = None
    if raw_id and not id_number:
        why = (
            "stored as a number cell, digits lost: format the column as text"
            if as_number
            else common.id_number_error(raw_id, today) or "format"
        )
        column = columns.name_of("id_number")
        if not card:
            return ParseProblem(
                loc,
                column,
                Reason.BAD_PATIENT_ID,
                f"column {column}: not a valid GB 11643 ID number ({why}) and no card number",
            )
        warning = ParseProblem(
            loc,
            column,
            Reason.BAD_PATIENT_ID,
            f"column {column}: not a valid GB 11643 ID number ({why}); ignored, the row is "
            "matched by its card number",
            warning=True,
        )
    if not id_number and not card:
        column = columns.name_of("id_number" if "id_number" in columns.index else "card_number")
        return ParseProblem(
            loc, column, Reason.NO_PATIENT_ID, "row has neither an ID number nor a card number"
        )
    date_column = columns.name_of("date")
    raw_date = columns.raw(row, "date")
    if cell_text(raw_date) == "":
        return ParseProblem(loc, date_column, Reason.NO_DATE, f"column {date_column} is empty")
    try:
        when = cell_datetime(raw_date, epoch)
    except ValueError as exc:
        return ParseProblem(loc, date_column, Reason.BAD_DATE, f"column {date_column}: {exc}")
    if common.is_future(when, now):
        return ParseProblem(
            loc,
            date_column,
            Reason.FUTURE_DATE,
            f"column {date_column}: {when:%Y-%m-%d} is in the future",
        )
    birth = None
    raw_birth = columns.raw(row, "birth_date")
    if cell_text(raw_birth):
        try:
            birth = cell_datetime(raw_birth, epoch).date()
        except ValueError:
            birth = None
    patient = PatientIds(
        id_number=id_number or "",
        card_number=card,
        name=columns.text(row, "name"),
        sex=common.normalise_sex(columns.text(row, "sex")),
        birth_date=birth,
    )
    return patient, columns.text(row, "report_id"), when, warning


def _check_value(value: str, unit: str) -> str | None:
    """None when usable; else why not. A value that starts like a number but is not one is
    always refused ("5..6"); with a unit the value must be numeric-ish (a number, "<0.1",
    "1:128", or a qualitative word such as 阴性), since free text does not come in mmol/L."""
    kind = common.classify_value(value)
    if kind == "bad" or (unit and kind == "text"):
        return "neither a number, a comparator and number, nor a qualitative result"
    return None


def _long_row(
    number: int,
    row: list[object],
    columns: _Columns,
    sheet: _Sheet,
    now: dt.datetime,
    groups: dict[tuple[str, ...], _Group],
    problems: list[ParseProblem],
) -> None:
    loc = f"row {number}"
    ident = _cached_identity(number, row, columns, now, sheet)
    if isinstance(ident, ParseProblem):
        problems.append(ident)
        return
    patient, report_id, when, warning = ident
    person = (patient.id_number, patient.card_number)
    key = ("id", report_id) if report_id else ("person", *person, when.date().isoformat())
    group = groups.get(key)
    if group is None:
        group = groups[key] = _Group(key, patient, report_id, when)
    elif report_id and not _same_person(group.patient, patient):
        column = columns.name_of("report_id")
        problems.append(
            ParseProblem(
                loc,
                column,
                Reason.MALFORMED,
                f"column {column}: the same report id as earlier rows but another person; "
                "row not imported",
            )
        )
        return
    group.rows.append(number)
    if warning is not None:
        group.warnings.append(warning)
    code = columns.text(row, "code")
    name = columns.text(row, "item_name")
    if not code and not name:
        column = columns.name_of("code" if "code" in columns.index else "item_name")
        group.problems.append(
            ParseProblem(loc, column, Reason.NO_CODE, f"column {column} is empty")
        )
        return
    value = columns.text(row, "value")
    value_column = columns.name_of("value")
    if not value:
        group.problems.append(
            ParseProblem(loc, value_column, Reason.NO_VALUE, f"column {value_column} is empty")
        )
        return
    unit = columns.text(row, "unit")
    why = _check_value(value, unit)
    if why:
        group.problems.append(
            ParseProblem(loc, value_column, Reason.BAD_VALUE, f"column {value_column}: {why}")
        )
        return
    # Codes, names, units, ranges and flags repeat on every person's rows: interned, so 50 MB
    # of rows do not hold 50 MB of copies of "mmol/L".
    group.results.append(
        ParsedResult(
            location=loc,
            local_code=sys.intern(code or name),
            local_name=sys.intern(name),
            coding_system="",
            value=common.fold_number(value),
            unit=sys.intern(unit),
            reference_range=sys.intern(columns.text(row, "reference_range")),
            flag=sys.intern(columns.text(row, "flag")),
            effective_at=when if when != group.effective_at else None,
        )
    )


def _same_person(a: PatientIds, b: PatientIds) -> bool:
    if a.id_number and b.id_number and a.id_number != b.id_number:
        return False
    return not (a.card_number and b.card_number and a.card_number != b.card_number)


def _wide_row(
    number: int,
    row: list[object],
    columns: _Columns,
    sheet: _Sheet,
    now: dt.datetime,
    groups: dict[tuple[str, ...], _Group],
    problems: list[ParseProblem],
) -> None:
    loc = f"row {number}"
    ident = _cached_identity(number, row, columns, now, sheet)
    if isinstance(ident, ParseProblem):
        problems.append(ident)
        return
    patient, report_id, when, warning = ident
    group = _Group(("row", str(number)), patient, report_id, when, rows=[number])
    if warning is not None:
        group.warnings.append(warning)
    for pos, header, name, unit in columns.results:
        value = cell_text(row[pos]) if pos < len(row) else ""
        if not value:
            continue
        where = f"{loc}, column {header}"
        why = _check_value(value, unit)
        if why:
            group.problems.append(
                ParseProblem(where, header, Reason.BAD_VALUE, f"column {header}: {why}")
            )
            continue
        group.results.append(
            ParsedResult(
                location=where,
                local_code=name,
                local_name=name,
                coding_system="",
                value=common.fold_number(value),
                unit=unit,
                reference_range="",
                flag="",
            )
        )
    if not group.results and not group.problems:
        group.problems.append(
            ParseProblem(loc, "results", Reason.NO_VALUE, "row has no result in any column")
        )
    groups[group.key] = group
