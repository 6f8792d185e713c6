"""Forms of the report-sync pages: they parse what was sent; the services decide what it means.

Also the guard that keeps an oversized upload out of memory and off the disk: Django would
stream a large multipart body to a temporary file before any view could look at it (and the
CSRF check reads the body on every POST), so the upload views look at the request's declared
length first and refuse before the body is read at all (`declared_too_large`).
"""

from __future__ import annotations

import uuid

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from careledger.exams import storage
from careledger.exams.models import ImportSource, SourceFormat
from careledger.exams.parsers.types import FileUnreadable, Reason

# Room for the multipart framing and the small text fields around the file: a body longer
# than the file limit plus this cannot hold an acceptable file.
UPLOAD_SLACK_BYTES = 256 * 1024
NEW_SOURCE = "__new__"


def declared_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def declared_too_large(request: HttpRequest) -> bool:
    """The body announced is too long to hold an acceptable file (checked before reading it)."""
    return declared_length(request) > storage.max_bytes() + UPLOAD_SLACK_BYTES


def file_too_large(size: int) -> bool:
    return size > storage.max_bytes()


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"))
    source = forms.ChoiceField(label=_("Source"), required=False)
    new_source = forms.CharField(label=_("New source name"), max_length=100, required=False)
    format = forms.ChoiceField(
        label=_("Format"), choices=SourceFormat.choices, required=False, initial=""
    )

    def __init__(self, *args, sources=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        choices = [(s.name, s.name) for s in sources]
        self.fields["source"].choices = [*choices, (NEW_SOURCE, _("New source…"))]
        if not choices:
            self.fields["source"].initial = NEW_SOURCE

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        chosen = data.get("source") or NEW_SOURCE
        name = " ".join((data.get("new_source") or "").split())
        if chosen == NEW_SOURCE:
            if not name:
                self.add_error("new_source", _("Choose a source or name a new one."))
            data["source_name"] = name
        else:
            data["source_name"] = chosen
        return data


class MatchForm(forms.Form):
    client_id = forms.UUIDField()


class DiscardForm(forms.Form):
    reason = forms.CharField(label=_("Why it will never land"), min_length=2, max_length=500)


def item_ids(values: list[str], *, limit: int = 200) -> list[uuid.UUID]:
    """The ticked quarantine items of a retry (ids that are not ids are ignored)."""
    out = []
    for value in values[:limit]:
        try:
            out.append(uuid.UUID(value))
        except ValueError:
            continue
    return out


class QuarantineFilterForm(forms.Form):
    job = forms.UUIDField(required=False)
    reason = forms.ChoiceField(required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, *args, reasons=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", _("All reasons")), *reasons]


# --- import sources (configuration) ---------------------------------------------------------

MAPPING_COLUMNS = (
    ("id_number", _("ID number column")),
    ("card_number", _("Card No. column")),
    ("name", _("Name column")),
    ("sex", _("Sex column")),
    ("birth_date", _("Birth date column")),
    ("report_id", _("Report No. column")),
    ("date", _("Exam date column")),
)
LONG_COLUMNS = (
    ("code", _("Item code column")),
    ("item_name", _("Item name column")),
    ("value", _("Result column")),
    ("unit", _("Unit column")),
    ("reference_range", _("Reference range column")),
    ("flag", _("Flag column")),
)
LAYOUTS = (
    ("long", _("Long: one row per result")),
    ("wide", _("Wide: one row per exam, one column per result")),
)
DELIMITER_CHOICES = (
    ("", _("Detect")),
    (",", _("Comma ,")),
    (";", _("Semicolon ;")),
    ("tab", _("Tab")),
    ("|", _("Vertical bar |")),
)


# The mapping's column fields are named apart from the source's own ("name" is both).
COLUMN_PREFIX = "col_"
_COLUMN_NAMES = {name for name, _label in (*MAPPING_COLUMNS, *LONG_COLUMNS)}


def _form_name(mapping_field: str) -> str:
    return COLUMN_PREFIX + mapping_field if mapping_field in _COLUMN_NAMES else mapping_field


class SourceForm(forms.Form):
    """A source and, for CSV/XLSX, a field per `ColumnMapping` field. Wide-layout result columns
    are one per line: `header` or `header = unit`."""

    name = forms.CharField(label=_("Source name"), max_length=100)
    format = forms.ChoiceField(label=_("Format"), choices=SourceFormat.choices, required=False)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)
    layout = forms.ChoiceField(label=_("Layout"), choices=LAYOUTS, initial="long")
    results = forms.CharField(
        label=_("Result columns (wide layout)"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    sheet = forms.CharField(label=_("Sheet (XLSX)"), max_length=200, required=False)
    header_row = forms.IntegerField(label=_("Header row"), min_value=1, max_value=1000, initial=1)
    delimiter = forms.ChoiceField(
        label=_("Delimiter (CSV)"), choices=DELIMITER_CHOICES, required=False
    )
    encoding = forms.CharField(label=_("Encoding (CSV)"), max_length=32, required=False)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        for name, label in (*MAPPING_COLUMNS, *LONG_COLUMNS):
            self.fields[COLUMN_PREFIX + name] = forms.CharField(
                label=label, max_length=200, required=False
            )

    @property
    def identity_fields(self):  # type: ignore[no-untyped-def]
        return [self[COLUMN_PREFIX + name] for name, _label in MAPPING_COLUMNS]

    @property
    def long_fields(self):  # type: ignore[no-untyped-def]
        return [self[COLUMN_PREFIX + name] for name, _label in LONG_COLUMNS]

    @staticmethod
    def initial_for(source: ImportSource) -> dict[str, object]:
        initial: dict[str, object] = {
            "name": source.name,
            "format": source.format,
            "is_active": source.is_active,
        }
        initial.update(SourceForm.mapping_initial(source.column_mapping or {}))
        return initial

    @staticmethod
    def mapping_initial(mapping: dict[str, object]) -> dict[str, object]:
        initial = {_form_name(k): v for k, v in mapping.items() if k != "results"}
        if initial.get("delimiter") == "\t":
            initial["delimiter"] = "tab"
        results = mapping.get("results") or {}
        if isinstance(results, dict):
            initial["results"] = "\n".join(
                f"{header} = {unit}" if unit else str(header) for header, unit in results.items()
            )
        return initial

    def mapping_dict(self) -> dict[str, object]:
        """The `ColumnMapping.to_dict()` shape of what was typed (validated by the service)."""
        d = self.cleaned_data
        out: dict[str, object] = {"layout": d["layout"]}
        for name, _label in (*MAPPING_COLUMNS, *LONG_COLUMNS):
            out[name] = d.get(COLUMN_PREFIX + name, "").strip()
        results: dict[str, str] = {}
        for line in (d.get("results") or "").splitlines():
            header, _sep, unit = line.partition("=")
            if header.strip():
                results[header.strip()] = unit.strip()
        out["results"] = results
        out["sheet"] = d.get("sheet", "").strip()
        out["header_row"] = d.get("header_row") or 1
        out["delimiter"] = "\t" if d.get("delimiter") == "tab" else d.get("delimiter", "")
        out["encoding"] = d.get("encoding", "").strip()
        return out

    def add_service_errors(self, errors: dict[str, str]) -> None:
        for key, message in errors.items():
            field = _form_name(key.removeprefix("mapping.")) if key.startswith("mapping.") else key
            self.add_error(field if field in self.fields else None, message)


class SampleForm(forms.Form):
    """A sample export whose header row fills in the column mapping (nothing is imported)."""

    sample = forms.FileField(label=_("Sample file"))


def sample_headers(
    data: bytes, fmt: str, *, header_row: int = 1, sheet: str = "", encoding: str = ""
) -> list[str]:
    """The header row of a sample CSV/XLSX export, as text (FileUnreadable when unreadable).

    Only the rows up to the header are read: XLSX through openpyxl's streaming reader, CSV
    decoded as the parser decodes it (BOM / UTF-8 / GB18030)."""
    import csv
    import io
    import itertools

    from careledger.exams.parsers.decoding import decode
    from careledger.exams.parsers.tabular import DELIMITERS, cell_text

    header_row = max(1, header_row)
    if fmt == SourceFormat.XLSX:
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types on a file that is not a workbook
            raise FileUnreadable(
                Reason.UNREADABLE, f"not a readable XLSX workbook ({type(exc).__name__})"
            ) from None
        try:
            if sheet and sheet not in book.sheetnames:
                raise FileUnreadable(Reason.UNREADABLE, f"the workbook has no sheet {sheet!r}")
            ws = book[sheet] if sheet else book.worksheets[0]
            rows = ws.iter_rows(min_row=header_row, max_row=header_row, values_only=True)
            row = next(iter(rows), ())
        finally:
            book.close()
    else:
        head = data[: 1024 * 1024]
        if len(data) > len(head):  # whole lines only, so no character is cut in two
            head = head[: head.rfind(b"\n") + 1]
        text, _encoding = decode(head, encoding)
        lines = text.lstrip("\ufeff").splitlines()
        first = lines[header_row - 1] if len(lines) >= header_row else ""
        delimiter = max(DELIMITERS, key=first.count) if first else ","
        reader = csv.reader(io.StringIO("\n".join(lines), newline=""), delimiter=delimiter)
        row = next(itertools.islice(reader, header_row - 1, None), [])
    return [cell_text(cell) for cell in row if cell_text(cell)]
