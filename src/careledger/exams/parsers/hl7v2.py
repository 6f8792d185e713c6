"""HL7 v2.x ORU^R01 result messages → `ParsedReport`s (one per message).

A file holds one message or many: MLLP-framed (0x0b … 0x1c 0x0d), separated by blank lines,
wrapped in FHS/BHS batch segments, or simply one MSH after another; segments end in \\r, \\n or
\\r\\n. The file is cut into messages on the byte level (a line that starts with "MSH" begins a
message; \\r and \\n never occur inside a UTF-8 or GB18030 character), then each message is
decoded on its own (its MSH-18 charset, see `decoding.decode`) and split with the encoding
characters of its own MSH-1/MSH-2. One broken message never costs the others. Messages are read
one at a time, so a large file costs its bytes plus the reports, not a tree of every segment.

The splitting is plain `str.split` on the encoding characters rather than python-hl7's
`hl7.parse`: python-hl7 builds a container object per field, repetition and component, which
held a 20-result message file to ~5,000 results/s; the split reads ~50,000/s, which the import
goal (20,000 observations/s end to end) needs. Escape sequences are decoded here too
(`_Codec.unescape`), in the message's charset for \\X..\\ hex, and without python-hl7's habit of
logging the field being unescaped (a field is patient data).

What a message yields (the rules the import documentation repeats):

* patient: PID-3 repetitions (CX with type code in component 5), PID-2, PID-4 and PID-19, picked
  by `common.pick_ids`; name PID-5, birth date PID-7, sex PID-8.
* report id: OBR-3 (filler order number), else OBR-2 (placer), else ORC-3 / ORC-2, of the first
  OBR/ORC that has one. Several OBR groups in one message are panels of ONE report.
* time: OBR-7 of the first OBR, else the first OBX-14, else MSH-7. A present but malformed OBR-7
  is BAD_DATE (the send time is not the exam time). Beyond `now` + 1 day: FUTURE_DATE.
* results: one per OBX. OBX-3 code^name^system ("LN" → coding_system "LN"); OBX-2 decides how
  OBX-5 reads: NM and SN (comparator^num^sep^num) must be numeric-ish (a number, "<0.1",
  "1:128", or a known qualitative word that vendors mistype as NM) else BAD_VALUE; CE/CWE take
  the text (component 2) else the code; ST/TX/FT are text (repetitions joined by newlines);
  ED/RP (embedded PDF, pointers) are not results (UNSUPPORTED). OBX-6 unit (identifier, else
  text), OBX-7 range, OBX-8 first flag, OBX-14 per-result time. OBX-11: F/U/"" final, C/A
  corrected, P/R/S preliminary; X (cannot be obtained), D (deleted), W (wrong), N (not asked)
  → CANCELLED problem, I/O (pending) → NO_VALUE problem; neither is imported.
* NTE after an OBX annotates that result (`note`), NTE before any OBX the report.

Message-level problems (the message is not emitted): not ORU (UNSUPPORTED), undecodable
(ENCODING), no PID / no identifiers (NO_PATIENT_ID), no OBX (TRUNCATED when it is the last
message of the file, else NO_VALUE), cut off by the end of the file (TRUNCATED), dates.
A line that is not an HL7 segment is reported (MALFORMED) and skipped; the message goes on.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from careledger.exams.parsers import common
from careledger.exams.parsers.decoding import bom_codec, decode
from careledger.exams.parsers.types import (
    FileUnreadable,
    ParsedReport,
    ParsedResult,
    ParseOutcome,
    ParseProblem,
    PatientIds,
    Reason,
)

_SEGMENT_RE = re.compile(rb"[A-Z][A-Z0-9]{2}")
_BATCH_SEGMENTS = (b"FHS", b"BHS", b"BTS", b"FTS")
_MLLP_START, _MLLP_END = b"\x0b", b"\x1c"

_STATUS = {
    "": "final",
    "F": "final",
    "U": "final",
    "C": "corrected",
    "A": "corrected",
    "P": "preliminary",
    "R": "preliminary",
    "S": "preliminary",
}
_CANCELLED = {"X": "cannot be obtained", "D": "deleted", "W": "wrong", "N": "not asked"}
_PENDING = {"I": "pending", "O": "order detail only"}
_NUMERIC_TYPES = {"NM", "SN"}
_CODED_TYPES = {"CE", "CWE", "CNE", "CF"}
_NOT_RESULTS = {"ED": "an encapsulated document", "RP": "a reference pointer"}


# --------------------------------------------------------------------------------------------
# Cutting the file into messages
# --------------------------------------------------------------------------------------------


@dataclass
class _RawMessage:
    number: int  # 1-based
    first_line: int  # 1-based line of the MSH in the file
    lines: list[tuple[int, bytes]] = field(default_factory=list)
    frame_open: bool = False  # MLLP start block seen, end block not yet


_LINE_END = re.compile(rb"\r\n|\r|\n")


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line) without building the list of all lines."""
    number, start = 0, 0
    for match in _LINE_END.finditer(data):
        number += 1
        yield number, data[start : match.start()]
        start = match.end()
    if start < len(data):
        yield number + 1, data[start:]


def _messages(data: bytes, junk: list[int]) -> Iterator[_RawMessage]:
    """The messages of the file, one at a time (a message is complete when the next MSH or
    the end of the file arrives). Line numbers of text before the first MSH go to `junk`."""
    current: _RawMessage | None = None
    frame_open = False
    count = 0
    for number, raw in _lines(data):
        line = raw
        if _MLLP_START in line:
            frame_open = True
            line = line.replace(_MLLP_START, b"")
        closes = _MLLP_END in line
        if closes:
            line = line.replace(_MLLP_END, b"")
        line = line.strip(b" \t")
        if line.startswith(b"MSH") and len(line) > 3:
            if current is not None:
                yield current
            count += 1
            current = _RawMessage(count, number, frame_open=frame_open)
        if line and not line.startswith(_BATCH_SEGMENTS):
            if current is not None:
                current.lines.append((number, line))
            else:
                junk.append(number)
        if closes:
            frame_open = False
            if current is not None:
                current.frame_open = False
    if current is not None:
        current.frame_open = current.frame_open or frame_open
        yield current


def _declared_charset(msh: bytes) -> str:
    """MSH-18 read from the raw bytes (MSH is ASCII by rule), first repetition."""
    sep = msh[3:4]
    parts = msh.split(sep)
    if len(parts) <= 17:
        return ""
    rep = parts[1][1:2] or b"~"
    value = parts[17].split(rep)[0]
    return value.decode("ascii", "replace").strip()


# --------------------------------------------------------------------------------------------
# Reading fields
# --------------------------------------------------------------------------------------------


class _Codec:
    """Encoding characters and charset of one message, and HL7 escape decoding (2.10)."""

    def __init__(self, msh: str, charset: str) -> None:
        # MSH-1 is the character after "MSH"; MSH-2 lists component, repetition, escape and
        # subcomponent characters in that order, each defaulting to the standard one.
        self.field = msh[3]
        end = msh.find(self.field, 4)
        enc = msh[4:end] if end > 0 else msh[4:]
        defaults = "^~\\&"
        chars = [enc[i] if i < len(enc) else defaults[i] for i in range(4)]
        self.comp, self.rep, self.esc, self.sub = chars
        self.charset = charset

    def unescape(self, text: str) -> str:
        r"""\F\ \S\ \T\ \R\ \E\, \.br\ \.sp\ → newline, \H\ \N\ (highlight) dropped, \Xhh..\
        hex bytes decoded in the message's charset. Unknown or unterminated sequences are kept
        as written: losing a character of a result is worse than showing a backslash."""
        esc = self.esc
        if not esc or esc not in text:
            return text
        out: list[str] = []
        i = 0
        n = len(text)
        while i < n:
            ch = text[i]
            if ch != esc:
                out.append(ch)
                i += 1
                continue
            end = text.find(esc, i + 1)
            if end < 0:
                out.append(text[i:])
                break
            seq = text[i + 1 : end]
            rendered = self._sequence(seq)
            out.append(text[i : end + 1] if rendered is None else rendered)
            i = end + 1
        return "".join(out)

    def _sequence(self, seq: str) -> str | None:
        simple = {"F": self.field, "S": self.comp, "T": self.sub, "R": self.rep, "E": self.esc}
        if seq in simple:
            return simple[seq]
        if seq in ("H", "N"):
            return ""
        if seq in (".br", ".sp", ".ce") or re.fullmatch(r"\.sp\d+", seq):
            return "\n"
        if seq in (".fi", ".nf") or re.fullmatch(r"\.(in|ti|sk)[+-]?\d*", seq):
            return ""
        if seq[:1] == "X" and re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", seq[1:]):
            raw = bytes.fromhex(seq[1:])
            for codec in (self.charset, "utf-8", "gb18030", "latin-1"):
                try:
                    return raw.decode(codec)
                except (UnicodeDecodeError, LookupError):
                    continue
        if seq[:1] == "Z":
            return ""  # locally defined escape: meaning unknown here
        return None


class _Segment:
    """One segment, split lazily with str.split (the encoding characters are plain
    characters: escapes never contain them), 1-based field access, unescaped on the way out.
    For MSH, field n is MSH-n (MSH-1 is the field separator itself)."""

    __slots__ = ("_cache", "codec", "fields", "id", "line")

    def __init__(self, text: str, codec: _Codec, line: int) -> None:
        self.codec = codec
        self.line = line
        self.fields = text.split(codec.field)
        self.id = self.fields[0]
        if self.id == "MSH":
            self.fields.insert(1, codec.field)
        self._cache: dict[int, list[list[list[str]]]] = {}

    def __len__(self) -> int:
        return len(self.fields) - 1

    def reps(self, n: int) -> list[list[list[str]]]:
        """Field n as repetitions → components → subcomponents (raw, still escaped)."""
        if n >= len(self.fields) or n < 1:
            return []
        tree = self._cache.get(n)
        if tree is None:
            raw = self.fields[n]
            c = self.codec
            if not raw:
                tree = []
            elif self.id == "MSH" and n in (1, 2):
                tree = [[[raw]]]
            else:
                tree = [
                    [comp.split(c.sub) for comp in rep.split(c.comp)] for rep in raw.split(c.rep)
                ]
            self._cache[n] = tree
        return tree

    def get(self, n: int, comp: int = 1, rep: int = 1, sub: int = 1) -> str:
        """One subcomponent, unescaped and trimmed ("" when absent). Partition/split on the
        raw field rather than building the tree: this is the hot path of a large file."""
        fields = self.fields
        if n >= len(fields) or n < 1:
            return ""
        raw = fields[n]
        if not raw:
            return ""
        if self.id == "MSH" and n in (1, 2):
            return raw
        c = self.codec
        for index, sep in ((rep, c.rep), (comp, c.comp), (sub, c.sub)):
            if index == 1:
                raw = raw.partition(sep)[0]
            else:
                parts = raw.split(sep)
                if len(parts) < index:
                    return ""
                raw = parts[index - 1]
        value = c.unescape(raw).strip() if c.esc in raw else raw.strip()
        return "" if value == '""' else value  # "" is HL7's explicit null

    def comps(self, n: int, count: int) -> list[str]:
        """The first `count` components of the first repetition of field n (unescaped, first
        subcomponent each), padded with "": one split for code^name^system style fields."""
        fields = self.fields
        raw = fields[n] if 0 < n < len(fields) else ""
        c = self.codec
        parts = raw.partition(c.rep)[0].split(c.comp)[:count] if raw else []
        out = []
        for part in parts:
            part = part.partition(c.sub)[0]
            value = (c.unescape(part) if c.esc in part else part).strip()
            out.append("" if value == '""' else value)
        return out + [""] * (count - len(out))

    def text(self, n: int, rep_join: str = "\n") -> str:
        """A whole field as text: components re-joined with the component separator,
        repetitions with `rep_join` (for ST/TX/FT values)."""
        c = self.codec
        out = [
            c.comp.join(c.sub.join(c.unescape(s) for s in subs) for subs in comps)
            for comps in self.reps(n)
        ]
        joined = rep_join.join(out).strip()
        return "" if joined == '""' else joined

    def rep_count(self, n: int) -> int:
        return len(self.reps(n))


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[ParseProblem] = []

    def add(
        self,
        location: str,
        fld: str,
        reason: Reason,
        message: str,
        report_index: int | None = None,
        *,
        warning: bool = False,
    ) -> None:
        self.items.append(ParseProblem(location, fld, reason, message, report_index, warning))


@dataclass
class _Draft:
    location: str
    local_code: str
    local_name: str
    coding_system: str
    value: str
    unit: str
    reference_range: str
    flag: str
    status: str
    effective_at: dt.datetime | None
    notes: list[str] = field(default_factory=list)


def parse_hl7(
    data: bytes, *, now: dt.datetime, card_types: tuple[str, ...] = common.CARD_TYPES
) -> ParseOutcome:
    """Every ORU^R01 message in `data`. Raises FileUnreadable only when there is no message at
    all (not HL7, or bytes in no supported encoding)."""
    bom = bom_codec(data)
    if bom and bom != "utf-8-sig":
        text, _ = decode(data)
        data = text.encode("utf-8")
        forced: str | None = bom
    else:
        if bom:
            data = data[3:]
        forced = None
    stripped_end = data.rstrip(b" \t\x00")
    ends_cleanly = not stripped_end or stripped_end[-1:] in (b"\r", b"\n", _MLLP_END)
    problems = _Problems()
    junk: list[int] = []
    reports: list[ParsedReport] = []
    encodings: Counter[str] = Counter()
    units = 0
    # One message of look-ahead: only the last message of the file can be cut off by its end.
    stream = _messages(data, junk)
    pending = next(stream, None)
    if pending is None:
        decode(data)  # raises ENCODING for bytes that are no text at all
        raise FileUnreadable(Reason.UNREADABLE, "no MSH segment: the file holds no HL7 message")
    for line_no in junk:
        problems.add(
            f"line {line_no}",
            "segment",
            Reason.MALFORMED,
            "text before the first MSH segment is not an HL7 segment; skipped",
        )
    while pending is not None:
        raw = pending
        pending = next(stream, None)
        is_last = pending is None
        units += 1
        try:
            report = _parse_message(
                raw,
                now=now,
                problems=problems,
                next_index=len(reports),
                truncated_frame=raw.frame_open,
                cut_at_end=is_last and not ends_cleanly,
                is_last=is_last,
                forced_codec=forced,
                encodings=encodings,
                card_types=card_types,
            )
        except Exception as exc:  # a parser bug must cost one message, not the file
            problems.add(
                f"message {raw.number}",
                "message",
                Reason.MALFORMED,
                f"internal parser error ({type(exc).__name__}); message skipped",
            )
            continue
        if report is not None:
            reports.append(report)
    encoding = encodings.most_common(1)[0][0] if encodings else (forced or "utf-8")
    return ParseOutcome(
        reports=reports,
        problems=problems.items,
        encoding=forced or encoding,
        units_read=units,
    )


def _parse_message(
    raw: _RawMessage,
    *,
    now: dt.datetime,
    problems: _Problems,
    next_index: int,
    truncated_frame: bool,
    cut_at_end: bool,
    is_last: bool,
    forced_codec: str | None,
    encodings: Counter[str],
    card_types: tuple[str, ...],
) -> ParsedReport | None:
    where = f"message {raw.number}"
    msh_bytes = raw.lines[0][1]
    sep = msh_bytes[3:4]

    if truncated_frame:
        problems.add(
            where,
            "MLLP",
            Reason.TRUNCATED,
            "the file ends inside this message (MLLP start block without end block)",
        )
        return None

    # Lines that are not segments: junk in the middle is skipped with a problem; an
    # unterminated last line that is not a whole segment means the file was cut.
    good: list[tuple[int, bytes]] = []
    for pos, (line_no, line) in enumerate(raw.lines):
        ok = bool(_SEGMENT_RE.match(line)) and (len(line) == 3 or line[3:4] == sep)
        if ok:
            good.append((line_no, line))
            continue
        if cut_at_end and pos == len(raw.lines) - 1:
            problems.add(
                where,
                "segment",
                Reason.TRUNCATED,
                f"the file ends inside this message (line {line_no} is cut off)",
            )
            return None
        problems.add(
            f"{where}, line {line_no}",
            "segment",
            Reason.MALFORMED,
            "line is not an HL7 segment (no 3-character segment id and field separator); skipped",
        )

    # Decode with this message's own charset declaration.
    body = b"\r".join(line for _, line in good)
    if forced_codec:
        text, codec = body.decode("utf-8"), forced_codec
    else:
        try:
            text, codec = decode(body, _declared_charset(msh_bytes))
        except FileUnreadable as exc:
            problems.add(where, "MSH-18", Reason.ENCODING, exc.message)
            return None
    encodings[codec] += 1

    charset = codec if codec not in ("utf-8-sig",) else "utf-8"
    lines = text.split("\r")
    hcodec = _Codec(lines[0], charset)
    segments = [
        _Segment(line, hcodec, line_no) for line, (line_no, _) in zip(lines, good, strict=False)
    ]
    msh = segments[0]

    # A cut last segment: fewer fields than its siblings, or an OBX without OBX-11.
    if cut_at_end and segments:
        tail = segments[-1]
        siblings = [s for s in segments[:-1] if s.id == tail.id]
        if (tail.id == "OBX" and len(tail) < 11) or any(len(s) > len(tail) for s in siblings):
            problems.add(
                where,
                tail.id,
                Reason.TRUNCATED,
                f"the file ends inside this message (last {tail.id} segment is incomplete)",
            )
            return None

    msg_type, event = msh.get(9, 1), msh.get(9, 2)
    if msg_type != "ORU":
        problems.add(
            where,
            "MSH-9",
            Reason.UNSUPPORTED,
            f"message type {msg_type or '(empty)'}^{event} carries no results "
            "(only ORU^R01 is imported); skipped",
        )
        return None

    pid = next((s for s in segments if s.id == "PID"), None)
    obxs = [s for s in segments if s.id == "OBX"]
    if not obxs:
        if is_last:
            problems.add(
                where,
                "OBX",
                Reason.TRUNCATED,
                "the last message of the file has no OBX result segment: the file was cut",
            )
        else:
            problems.add(where, "OBX", Reason.NO_VALUE, "message has no OBX result segment")
        return None
    if pid is None:
        problems.add(where, "PID", Reason.NO_PATIENT_ID, "message has no PID segment")
        return None

    # Patient.
    today = common.aware(now).date()
    candidates: list[common.Candidate] = []
    for r in range(1, pid.rep_count(3) + 1):
        candidates.append(
            common.Candidate(pid.get(3, 1, r), pid.get(3, 5, r).upper(), f"PID-3[{r}]")
        )
    for n in (2, 4):
        for r in range(1, pid.rep_count(n) + 1):
            candidates.append(
                common.Candidate(pid.get(n, 1, r), pid.get(n, 5, r).upper(), f"PID-{n}")
            )
    ssn = pid.get(19)
    if ssn:
        candidates.append(common.Candidate(ssn, "SS", "PID-19"))
    picked = common.pick_ids(candidates, today=today, card_types=card_types)
    if not picked.id_number and not picked.card_number:
        if picked.bad_id_where:
            problems.add(
                where,
                picked.bad_id_where,
                Reason.BAD_PATIENT_ID,
                f"the ID number in {picked.bad_id_where} is not a valid GB 11643 number "
                f"({picked.bad_id_why}) and there is no card number",
            )
        else:
            problems.add(
                where,
                "PID-3",
                Reason.NO_PATIENT_ID,
                "PID carries neither a valid ID number nor a card / record number",
            )
        return None
    birth = None
    if pid.get(7):
        try:
            birth = common.parse_hl7_ts(pid.get(7)).date()
        except ValueError:
            birth = None
    patient = PatientIds(
        id_number=picked.id_number,
        card_number=picked.card_number,
        name=common.join_name(pid.get(5, 1), pid.get(5, 2)),
        sex=common.normalise_sex(pid.get(8)),
        birth_date=birth,
    )

    # Report id and time.
    obrs = [s for s in segments if s.id == "OBR"]
    orcs = [s for s in segments if s.id == "ORC"]
    report_id = ""
    for seg, fields in ((obrs, (3, 2)), (orcs, (3, 2))):
        for n in fields:
            report_id = next((s.get(n) for s in seg if s.get(n)), "")
            if report_id:
                break
        if report_id:
            break

    effective: dt.datetime | None = None
    date_field = ""
    raw_obr7 = next((s.get(7) for s in obrs if s.get(7)), "")
    if raw_obr7:
        date_field = "OBR-7"
        try:
            effective = common.parse_hl7_ts(raw_obr7)
        except ValueError as exc:
            problems.add(where, "OBR-7", Reason.BAD_DATE, f"OBR-7 observation time: {exc}")
            return None
    if effective is None:
        for obx in obxs:
            if obx.get(14):
                try:
                    effective = common.parse_hl7_ts(obx.get(14))
                    date_field = "OBX-14"
                    break
                except ValueError:
                    continue
    if effective is None and msh.get(7):
        try:
            effective = common.parse_hl7_ts(msh.get(7))
            date_field = "MSH-7"
        except ValueError as exc:
            problems.add(where, "MSH-7", Reason.BAD_DATE, f"MSH-7 message time: {exc}")
            return None
    if effective is None:
        problems.add(
            where, "OBR-7", Reason.NO_DATE, "no observation time (OBR-7, OBX-14 nor MSH-7)"
        )
        return None
    if common.is_future(effective, now):
        problems.add(
            where,
            date_field,
            Reason.FUTURE_DATE,
            f"{date_field} {effective:%Y-%m-%d %H:%M} is in the future",
        )
        return None

    # Results, with NTE notes.
    index = next_index
    drafts: list[_Draft] = []
    result_problems: list[tuple[str, str, Reason, str]] = []
    report_notes: list[str] = []
    current: _Draft | None = None
    current_obr_time: dt.datetime | None = None
    obx_ordinal = 0
    for seg in segments:
        if seg.id == "OBR":
            current = None
            current_obr_time = None
            if seg.get(7):
                try:
                    current_obr_time = common.parse_hl7_ts(seg.get(7))
                except ValueError:
                    current_obr_time = None
        elif seg.id == "NTE":
            note = seg.text(3)
            if note:
                (current.notes if current is not None else report_notes).append(note)
        elif seg.id == "OBX":
            obx_ordinal += 1
            current = None
            loc = f"{where}, OBX {obx_ordinal}"
            draft_or_problem = _read_obx(seg, loc, current_obr_time)
            if isinstance(draft_or_problem, _Draft):
                current = draft_or_problem
                drafts.append(current)
            else:
                result_problems.append(draft_or_problem)

    if not drafts:
        for loc, fld, reason, message in result_problems:
            problems.add(loc, fld, reason, message)
        problems.add(where, "OBX", Reason.NO_VALUE, "no readable result in this message")
        return None
    for loc, fld, reason, message in result_problems:
        problems.add(loc, fld, reason, message, index)
    if picked.bad_id_where:
        problems.add(
            where,
            picked.bad_id_where,
            Reason.BAD_PATIENT_ID,
            f"the ID number in {picked.bad_id_where} is not a valid GB 11643 number "
            f"({picked.bad_id_why}); ignored, the report is matched by its card number",
            index,
            warning=True,
        )
    results = [
        ParsedResult(
            location=d.location,
            local_code=d.local_code,
            local_name=d.local_name,
            coding_system=d.coding_system,
            value=d.value,
            unit=d.unit,
            reference_range=d.reference_range,
            flag=d.flag,
            status=d.status,
            effective_at=d.effective_at,
            note="\n".join(d.notes),
        )
        for d in drafts
    ]
    statuses = {r.status for r in results}
    return ParsedReport(
        index=index,
        location=where,
        patient=patient,
        source_report_id=report_id,
        effective_at=effective,
        results=results,
        status=(
            "corrected"
            if "corrected" in statuses
            else "preliminary"
            if statuses == {"preliminary"}
            else "final"
        ),
        sending_facility=msh.get(4) or msh.get(4, 2),
        note="\n".join(report_notes),
    )


def _read_obx(
    seg: _Segment, loc: str, obr_time: dt.datetime | None
) -> _Draft | tuple[str, str, Reason, str]:
    code, name, system = seg.comps(3, 3)
    system = system.upper()
    if not code and not name:
        return (loc, "OBX-3", Reason.NO_CODE, "OBX-3 observation identifier is empty")
    status_code = seg.get(11).upper()
    if status_code in _CANCELLED:
        return (
            loc,
            "OBX-11",
            Reason.CANCELLED,
            f"OBX-11 result status {status_code} ({_CANCELLED[status_code]}); not imported",
        )
    if status_code in _PENDING:
        return (
            loc,
            "OBX-11",
            Reason.NO_VALUE,
            f"OBX-11 result status {status_code} ({_PENDING[status_code]}): no result yet",
        )
    status = _STATUS.get(status_code, "final")
    vtype = seg.get(2).upper()
    if vtype in _NOT_RESULTS:
        return (
            loc,
            "OBX-2",
            Reason.UNSUPPORTED,
            f"OBX-2 value type {vtype} is {_NOT_RESULTS[vtype]}, not a result value; skipped",
        )
    value = _value(seg, vtype)
    if not value:
        return (loc, "OBX-5", Reason.NO_VALUE, f"OBX-5 value is empty (type {vtype or '?'})")
    if vtype in _NUMERIC_TYPES:
        value = common.fold_number(value)
        if not common.is_plausible_numeric_result(value):
            return (
                loc,
                "OBX-5",
                Reason.BAD_VALUE,
                f"OBX-5 of numeric type {vtype} is neither a number, a comparator and number "
                "nor a known qualitative result",
            )
    effective_at = None
    obx14 = seg.get(14)
    if obx14:
        try:
            effective_at = common.parse_hl7_ts(obx14)
        except ValueError:
            effective_at = None
    # Codes, names, units, ranges and flags repeat in every message: interned (memory).
    return _Draft(
        location=loc,
        local_code=sys.intern(code or name),
        local_name=sys.intern(name),
        coding_system="LN" if system in ("LN", "LOINC") else "",
        value=value,
        unit=sys.intern(_unit(seg)),
        reference_range=sys.intern(seg.text(7, rep_join=" ")),
        flag=sys.intern(_flag(seg)),
        status=status,
        effective_at=effective_at or obr_time,
    )


def _unit(seg: _Segment) -> str:
    """OBX-6 (CE: identifier^text^system). LIS often write "10^9/L" unescaped, which splits
    into "10" and "9/L": a numeric identifier followed by a text starting with a digit and no
    coding system is put back together."""
    ident, text, system = seg.comps(6, 3)
    if ident.isdigit() and text[:1].isdigit() and not system:
        return f"{ident}^{text}"
    return ident or text


def _flag(seg: _Segment) -> str:
    """OBX-8 may repeat ("H~A"): the first non-empty one."""
    for rep in range(1, 6):
        flag = seg.get(8, 1, rep)
        if flag or rep >= seg.rep_count(8):
            return flag
    return ""


def _value(seg: _Segment, vtype: str) -> str:
    if vtype in _CODED_TYPES:
        return seg.get(5, 2) or seg.get(5, 1)
    if vtype in _NUMERIC_TYPES:
        reps = seg.reps(5)
        if not reps:
            return ""
        parts = [seg.codec.unescape(subs[0] if subs else "").strip() for subs in reps[0]]
        if len(parts) == 1:
            return parts[0]
        # SN: comparator ^ num1 ^ separator/suffix ^ num2 → "<0.1", "5.6", "1:128", "10-20".
        return "".join(parts[:4]).strip()
    return seg.text(5)
