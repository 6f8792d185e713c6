"""Bytes → text for every report format, without guessing where the file says what it is.

Order (first that applies wins):

1. A byte-order mark: UTF-8 (EF BB BF), UTF-32 LE/BE, UTF-16 LE/BE. A BOM is the strongest
   statement a file can make about itself, stronger than a declared charset.
2. A declared charset (HL7 MSH-18, an XML/HTTP charset, a Python codec name), if the bytes
   decode in it strictly. A declaration the bytes contradict (GBK bytes behind "UNICODE UTF-8",
   the usual Chinese LIS mistake) is ignored and detection goes on. A declared single-byte
   Latin charset ("8859/1") is also overruled by bytes that are valid multi-byte UTF-8: Latin-1
   decodes anything, so it would silently turn 血糖 into mojibake, while random Latin-1 text is
   essentially never valid UTF-8.
3. Strict UTF-8.
4. GB18030: the superset of GB2312 and GBK, what Chinese LIS and Excel (on a Chinese Windows)
   export. It is checked after UTF-8 because UTF-8 is self-validating; GB18030 accepts many
   more byte strings.
5. Nothing fits → `FileUnreadable(Reason.ENCODING)`.

NUL bytes outside UTF-16/32 mean binary content (or UTF-16 without a BOM, which every exporter
we know writes with one): refused as ENCODING rather than handed to a parser as text.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator

from careledger.exams.parsers.types import FileUnreadable, Reason

# HL7 v2 table 0211 (alternate character sets) and common spellings → Python codec names.
# Keys are compared upper-case with spaces, "-" and "_" removed.
_DECLARED = {
    "ASCII": "ascii",
    "USASCII": "ascii",
    "88591": "latin-1",
    "ISO88591": "latin-1",
    "ISOIR100": "latin-1",
    "LATIN1": "latin-1",
    "88592": "iso8859-2",
    "88595": "iso8859-5",
    "88597": "iso8859-7",
    "885915": "iso8859-15",
    "UNICODEUTF8": "utf-8",
    "UTF8": "utf-8",
    "ISOIR192": "utf-8",
    "UNICODEUTF16": "utf-16",
    "UTF16": "utf-16",
    "UNICODE": "utf-16",  # HL7 "UNICODE" is UCS-2; UTF-16 reads it
    "UNICODEUTF32": "utf-32",
    "UTF32": "utf-32",
    "GB180302000": "gb18030",
    "GB18030": "gb18030",
    "GBK": "gb18030",
    "CP936": "gb18030",
    "GB2312": "gb18030",
    "ISOIR58": "gb18030",  # GB 2312 in ISO 2022 naming
    "EUCCN": "gb18030",
    "BIG5": "big5",
    "BIG5HKSCS": "big5hkscs",
    "KSC5601": "euc-kr",
    "ISOIR149": "euc-kr",
    "ISOIR87": "iso2022-jp",
    "SHIFTJIS": "shift_jis",
    "CP1252": "cp1252",
    "WINDOWS1252": "cp1252",
}

_SINGLE_BYTE = {"latin-1", "iso8859-2", "iso8859-5", "iso8859-7", "iso8859-15", "cp1252"}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: FF FE 00 00 starts with FF FE
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def codec_for(declared: str) -> str | None:
    """The Python codec for a declared charset name (HL7 table 0211 or a codec name), or None."""
    if not declared:
        return None
    key = "".join(ch for ch in declared.upper() if ch not in " -_/.")
    if key in _DECLARED:
        return _DECLARED[key]
    try:
        name = codecs.lookup(declared.strip()).name
    except (LookupError, ValueError):
        return None
    if name in ("gbk", "gb2312", "gb18030", "hz"):
        return "gb18030"
    return name


def bom_codec(data: bytes) -> str | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    return None


_CHUNK = 1 << 20


def _first_error(data: bytes, codec: str) -> int | None:
    """Byte offset of the first undecodable byte, or None. Decodes in 1 MB chunks and drops
    the text, so checking a 50 MB file does not build a 50 MB string (CPython's one-shot
    decoder allocates for the widest character it meets, up to 4 bytes per input byte)."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    for offset in range(0, len(data), _CHUNK):
        try:
            decoder.decode(data[offset : offset + _CHUNK], final=offset + _CHUNK >= len(data))
        except UnicodeDecodeError as exc:
            return offset + max(0, exc.start)
    if not data:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return 0
    return None


def detect(data: bytes, declared: str = "") -> str:
    """The codec `data` decodes in, by the rules at the top of this module; raises
    FileUnreadable(ENCODING) when none fits. Builds no text."""
    bom = bom_codec(data)
    if bom:
        error = _first_error(data, bom)
        if error is not None:
            raise FileUnreadable(
                Reason.ENCODING,
                f"the file starts with a {bom} byte-order mark but byte {error} "
                "does not decode in it",
            )
        return bom
    codec = codec_for(declared)
    if codec in ("utf-16", "utf-32") and _first_error(data, codec + "-le") is None:
        # Declared wide encoding without a BOM: HL7 says little-endian unless told otherwise.
        return codec + "-le"
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileUnreadable(
            Reason.ENCODING,
            f"the file holds NUL bytes (first at byte {nul}): binary content "
            "or UTF-16 without a byte-order mark",
        )
    if codec and codec not in ("utf-16", "utf-32") and _first_error(data, codec) is None:
        if codec not in _SINGLE_BYTE or data.isascii():
            return codec
        # Latin-1 decodes anything: valid multi-byte UTF-8 is the likelier truth.
        return "utf-8" if _first_error(data, "utf-8") is None else codec
    utf8_error = _first_error(data, "utf-8")
    if utf8_error is None:
        return "utf-8"
    gb_error = _first_error(data, "gb18030")
    if gb_error is None:
        return "gb18030"
    raise FileUnreadable(
        Reason.ENCODING,
        f"the bytes are neither UTF-8 (invalid at byte {utf8_error}) nor GB18030 "
        f"(invalid at byte {gb_error})"
        + (f"; declared charset {declared!r} does not fit either" if declared else ""),
    )


def decode(data: bytes, declared: str = "") -> tuple[str, str]:
    """The text and the codec it was decoded with ("utf-8", "utf-8-sig", "gb18030", ...)."""
    codec = detect(data, declared)
    return data.decode(codec), codec


def decoded_lines(data: bytes, codec: str) -> Iterator[str]:
    """The lines of `data` decoded with `codec` (already detected), line endings kept, one at
    a time: a large CSV never exists as one string. A byte-order mark is dropped. Lines end
    at \\n; a file with none (old Mac exports) is split at \\r instead."""
    if codec == "utf-8-sig":
        data = data[3:] if data.startswith(codecs.BOM_UTF8) else data
        codec = "utf-8"
    decoder = codecs.getincrementaldecoder(codec)("strict")
    newline = "\n"
    if b"\n" not in data[: 1 << 16] and b"\n" not in data and not codec.startswith("utf-16"):
        newline = "\r"
    pending = ""
    first = True
    for offset in range(0, len(data), _CHUNK):
        final = offset + _CHUNK >= len(data)
        chunk = decoder.decode(data[offset : offset + _CHUNK], final=final)
        if first:
            chunk = chunk.lstrip("\ufeff")
            first = False
        text = pending + chunk
        start = 0
        while True:
            stop = text.find(newline, start)
            if stop < 0:
                break
            yield text[start : stop + 1]
            start = stop + 1
        pending = text[start:]
    if pending:
        yield pending
