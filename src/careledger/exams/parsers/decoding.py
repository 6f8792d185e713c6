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


def decode(data: bytes, declared: str = "") -> tuple[str, str]:
    """The text and the codec it was decoded with ("utf-8", "utf-8-sig", "gb18030", ...)."""
    bom = bom_codec(data)
    if bom:
        try:
            return data.decode(bom), bom
        except UnicodeDecodeError as exc:
            raise FileUnreadable(
                Reason.ENCODING,
                f"the file starts with a {bom} byte-order mark but byte {exc.start} "
                f"does not decode in it",
            ) from None
    codec = codec_for(declared)
    if codec in ("utf-16", "utf-32"):
        # Declared wide encoding without a BOM: HL7 says little-endian unless told otherwise.
        try:
            return data.decode(codec + "-le"), codec + "-le"
        except UnicodeDecodeError:
            pass
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileUnreadable(
            Reason.ENCODING,
            f"the file holds NUL bytes (first at byte {nul}): binary content "
            "or UTF-16 without a byte-order mark",
        )
    if codec and codec not in ("utf-16", "utf-32"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            pass  # a declaration the bytes contradict: detect instead
        else:
            if codec not in _SINGLE_BYTE or data.isascii():
                return text, codec
            try:
                return data.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                return text, codec
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        gb_error = exc.start
    raise FileUnreadable(
        Reason.ENCODING,
        f"the bytes are neither UTF-8 (invalid at byte {utf8_error}) nor GB18030 "
        f"(invalid at byte {gb_error})"
        + (f"; declared charset {declared!r} does not fit either" if declared else ""),
    )
