"""Where the report's CJK font comes from. Pure: no Django (the setting is passed in).

Decision 0024: Debian's `fonts-noto-cjk` (Noto Sans CJK, SIL Open Font License), the package
`.ci/run` already installs for the browser screenshots, read from its system path. It is the
font every Debian/Ubuntu machine can install with one apt line, and the TrueType collection
(.ttc) holds the Simplified Chinese face (index found by its name, not assumed). fpdf2 embeds
only the glyphs a report uses (a subset of a few tens of kB, not the 19 MB collection), so the
PDF renders the same on any reader, with or without Chinese fonts. `CARELEDGER_REPORT_FONT`
points at another .ttf/.otf/.ttc (and `CARELEDGER_REPORT_FONT_FACE` names the face in a
collection); a missing font is a `FontMissing` naming the package to install, never a report
full of empty boxes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

# Invariant 6: fontTools and fpdf2 log the characters they could not find or were asked for,
# which can be the characters of a client's name. Only their errors reach our logs.
for _name in ("fontTools", "fpdf"):
    logging.getLogger(_name).setLevel(logging.ERROR)

CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)
DEFAULT_FACE = "Noto Sans CJK SC"


class FontMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class FontChoice:
    path: str
    index: int  # face in a collection (0 for a single font)
    name: str
    # A cached cut of this face to the common characters (see `with_common_cut`): used for a
    # document whose every character it holds, the full face otherwise.
    common_path: str = ""

    def for_text(self, chars: set[str]) -> tuple[str, int]:
        """(path, face index) to draw `chars` with: the common cut when it covers them."""
        if self.common_path and chars <= common_charset():
            return self.common_path, 0
        return self.path, self.index


@lru_cache(maxsize=1)
def common_charset() -> frozenset[str]:
    """GB 2312 (its 6,763 hanzi and symbols), ASCII and Latin-1, general and CJK punctuation,
    arrows and shapes, full-width forms: what nearly every report is written in. A name with a
    rarer character (䶮, 喆 is in, 堃 is not) makes that report use the full face."""
    chars = {chr(c) for c in range(0x20, 0x250)}
    for block in ((0x2000, 0x2070), (0x2100, 0x2200), (0x2460, 0x2500), (0x25A0, 0x2600),
                  (0x3000, 0x3040), (0xFE30, 0xFE50), (0xFF00, 0xFFF0)):  # fmt: skip
        chars.update(chr(c) for c in range(*block))
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


def cut_path(choice: FontChoice, cache_dir: Path) -> Path:
    """Where the common cut of `choice` lives: keyed by the font file (path, size, mtime), the
    face and the fontTools version, so a changed font or library makes a new one."""
    import fontTools

    stat = Path(choice.path).stat()
    ident = f"{choice.path}|{stat.st_size}|{stat.st_mtime_ns}|{choice.index}|{fontTools.version}|2"
    return cache_dir / f"report-font-{hashlib.sha256(ident.encode()).hexdigest()[:16]}.otf"


def with_common_cut(choice: FontChoice, cache_dir: Path) -> FontChoice:
    """`choice` with its common cut when that has been built (else `choice` as it is)."""
    target = cut_path(choice, cache_dir)
    return replace(choice, common_path=str(target)) if target.is_file() else choice


def build_common_cut(choice: FontChoice, cache_dir: Path) -> Path:
    """Cut the face down to `common_charset()` into `cache_dir` (atomically); returns its path.

    Why: fpdf2 reads the whole face (65,000 glyphs of Noto Sans CJK) for every document before
    it subsets the few hundred glyphs used; reading a 7,800-glyph cut instead takes about half
    the time of a whole print. Building the cut takes tens of seconds, once per installation
    (`careledger report prepare-font`, or in the background on the first print).
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    target = cut_path(choice, cache_dir)
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    font = TTFont(choice.path, fontNumber=choice.index, lazy=False, recalcTimestamp=False)
    options = subset.Options(notdef_outline=True, recommended_glyphs=True)
    options.name_IDs = ["*"]
    options.layout_features = []  # fpdf2 drops the layout tables from what it embeds anyway
    options.drop_tables += ["GSUB", "GPOS", "GDEF"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={ord(c) for c in common_charset()})
    subsetter.subset(font)
    handle, temporary = tempfile.mkstemp(dir=cache_dir, suffix=".otf.part")
    try:
        with os.fdopen(handle, "wb") as out:
            font.save(out)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target


def _face_index(path: str, face: str) -> tuple[int, str]:
    if not path.lower().endswith(".ttc"):
        return 0, Path(path).stem
    from fontTools.ttLib import TTCollection

    collection = TTCollection(path, lazy=True)
    names = [f["name"].getDebugName(1) or "" for f in collection.fonts]
    collection.close()
    for index, name in enumerate(names):
        if name == face:
            return index, name
    raise FontMissing(f"{path} holds no face named {face!r} (it has: {', '.join(names)})")


@lru_cache(maxsize=8)
def choose(configured: str = "", face: str = DEFAULT_FACE) -> FontChoice:
    """The configured font, else the first installed candidate; FontMissing when none is."""
    paths = [configured] if configured else list(CANDIDATES)
    for path in paths:
        if Path(path).is_file():
            index, name = _face_index(path, face)
            return FontChoice(path, index, name)
    if configured:
        raise FontMissing(f"CARELEDGER_REPORT_FONT={configured} is not a file")
    raise FontMissing(
        "no CJK font for printed reports: install Debian's fonts-noto-cjk "
        "(apt-get install fonts-noto-cjk) or set CARELEDGER_REPORT_FONT to a .ttf/.otf/.ttc "
        "with Simplified Chinese glyphs"
    )
