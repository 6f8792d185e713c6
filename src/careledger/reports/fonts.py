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

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
