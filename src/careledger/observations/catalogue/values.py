"""Result values as exam centres write them, parsed into a number, a comparator and a text.

What is accepted (anything else is `BadValue`, with a message naming what was found):

* Numbers: "5.6", "3.2e-1", "-1.5", full-width "５.６"; surrounding spaces.
* Decimal comma: a single comma is a decimal comma ("5,6" → 5.6, "0,125" → 0.125) unless it
  groups thousands ("1,000", "12,500.5" → 1000, 12500.5: one to three digits, not "0", then
  groups of exactly three). Chinese exports use the point; the comma rule is for European kit.
* Comparators before the number: "<", "<=", "≤", "≦", ">", ">=", "≥", "≧" (also full-width and
  "小于"/"大于"), giving comparator "<", "<=", ">", ">=".
* A lab flag after the number is ignored: "↑", "↓", "H", "L", "HH", "LL", "*" ("0.1↓", "5.6H",
  "5.6 ↑"). The source's own flag is kept verbatim by the importer (`source_flag`/`source_value`);
  the catalogue's flag is recomputed from the number.
* Qualitative values, canonicalised to: "阴性" (阴性, 阴性(-), (-), -, neg, negative, 未检出),
  "±" (±, +-, +/-, 微量, trace, 弱阳性), "1+" (+, 1+, +1, (+), 阳性(+)), "2+" (++, 2+), "3+",
  "4+", "阳性" (阳性, pos, positive, 检出) and "正常" (正常, normal). On a binary scale such as
  HBsAg (阴性/阳性) any positive grade, ± and 弱阳性 included, is "阳性": a weak reaction is still
  a reaction and should be looked at, not silently read as negative. On a graded scale "阳性"
  without a grade is kept as text with no rank (number None, flagged abnormal), and "正常" is
  the scale's normal rank.

With an indicator: an ordinal indicator takes only qualitative values (number = rank on its
`ordinal_scale`); a quantity indicator takes only numbers, unless it has an `ordinal_scale` of
its own (semi-quantitative results), in which case a qualitative value parses with number None.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from careledger.observations.catalogue.model import Indicator

NEGATIVE = "阴性"
TRACE = "±"
POSITIVE = "阳性"
NORMAL = "正常"
GRADES = ("1+", "2+", "3+", "4+")


@dataclass(frozen=True)
class ParsedValue:
    number: Decimal | None
    comparator: str
    text: str  # canonical text for qualitative values ("阴性", "±", "1+", "阳性"); "" for numbers


class BadValue(ValueError):
    """The text is not a value this system can read (or not one this indicator can take)."""


_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$")
_THOUSANDS = re.compile(r"^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_COMPARATORS = (
    ("<=", "<="),
    (">=", ">="),
    ("≤", "<="),
    ("≦", "<="),
    ("≥", ">="),
    ("≧", ">="),
    ("小于等于", "<="),
    ("大于等于", ">="),
    ("小于", "<"),
    ("低于", "<"),
    ("大于", ">"),
    ("高于", ">"),
    ("<", "<"),
    (">", ">"),
)
# A plain decimal as most results are written ("5.43", "126"): read directly, as the steps of
# parse_value would read it (no folding, sign, comparator, flag or comma to deal with).
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_FLAG_SUFFIX = re.compile(r"(?:↑↑|↓↓|↑|↓|HH|LL|H|L|\*)$")
_SPACES = re.compile(r"\s+")

_WORDS: dict[str, str] = {
    # negative
    "阴性": NEGATIVE,
    "-": NEGATIVE,
    "neg": NEGATIVE,
    "negative": NEGATIVE,
    "未检出": NEGATIVE,
    "阴性-": NEGATIVE,
    "-阴性": NEGATIVE,
    "无": NEGATIVE,
    # trace
    "±": TRACE,
    "+-": TRACE,
    "+/-": TRACE,
    "-+": TRACE,
    "微量": TRACE,
    "trace": TRACE,
    "tr": TRACE,
    "弱阳性": TRACE,
    "弱阳性±": TRACE,
    "±弱阳性": TRACE,
    "±微量": TRACE,
    "微量±": TRACE,
    # grades
    "+": "1+",
    "1+": "1+",
    "+1": "1+",
    "++": "2+",
    "2+": "2+",
    "+2": "2+",
    "+++": "3+",
    "3+": "3+",
    "+3": "3+",
    "++++": "4+",
    "4+": "4+",
    "+4": "4+",
    # positive without grade
    "阳性": POSITIVE,
    "pos": POSITIVE,
    "positive": POSITIVE,
    "检出": POSITIVE,
    "reactive": POSITIVE,
    # normal
    "正常": NORMAL,
    "normal": NORMAL,
    "norm": NORMAL,
}
_WORDS_NEGATIVE_EXTRA = {"nonreactive": NEGATIVE, "non-reactive": NEGATIVE}
_WORDS.update(_WORDS_NEGATIVE_EXTRA)


def _show(raw: str) -> str:
    """The offending text for an error message, short and printable."""
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    return repr(shown)


def _qualitative(text: str) -> str | None:
    """The canonical qualitative token for `text`, or None if it is not one."""
    key = text.casefold().replace("（", "(").replace("）", ")")
    if key in _WORDS:
        return _WORDS[key]
    # "阴性(-)", "阳性(++)", "(+)", "3+(阳性)": a word and/or a sign grade in brackets.
    bare = key.replace("(", "").replace(")", "")
    if bare in _WORDS:
        return _WORDS[bare]
    match = re.fullmatch(r"(阴性|阳性|弱阳性|微量)?\(?([-+±/1-4]*)\)?(阴性|阳性|弱阳性|微量)?", key)
    if not match:
        return None
    word = match.group(1) or match.group(3)
    sign = _WORDS.get(match.group(2)) if match.group(2) else None
    word_token = _WORDS.get(word) if word else None
    if match.group(2) and sign is None:
        return None
    if sign and word_token:
        if word_token == NEGATIVE and sign != NEGATIVE:
            return None  # "阴性(+)" contradicts itself
        if word_token != NEGATIVE and sign == NEGATIVE:
            return None
        return sign if sign != POSITIVE else word_token
    return sign or word_token


def _number(text: str, raw: str) -> Decimal:
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    elif _DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    if not _NUMBER.match(text):
        raise BadValue(f"not a number: {_show(raw)}")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only finite numbers
        raise BadValue(f"not a number: {_show(raw)}") from exc
    if not number.is_finite():  # pragma: no cover - same
        raise BadValue(f"not a finite number: {_show(raw)}")
    return number


def _on_scale(token: str, ind: Indicator, raw: str) -> ParsedValue:
    scale = ind.ordinal_scale
    token = dict(ind.scale_equivalents).get(token, token)
    if token == NORMAL:
        token = scale[0]
    elif len(scale) == 2 and scale[1] == POSITIVE and token not in scale:
        token = POSITIVE  # binary scale: any reaction (±, 1+…) counts as positive
    if token in scale:
        rank = scale.index(token)
        return ParsedValue(Decimal(rank) if ind.is_ordinal else None, "", token)
    if token == POSITIVE:
        return ParsedValue(None, "", POSITIVE)  # graded scale, no grade given
    raise BadValue(
        f"{_show(raw)} is not on the scale of {ind.code} ({ind.abbreviation}): " + " ".join(scale)
    )


def parse_value(raw: str, ind: Indicator | None = None) -> ParsedValue:
    """Parse one result value (see the module docstring for what is accepted)."""
    if not isinstance(raw, str):
        raise BadValue(f"not text: {type(raw).__name__}")
    if (ind is None or not ind.is_ordinal) and _PLAIN_NUMBER.fullmatch(raw):
        return ParsedValue(Decimal(raw), "", "")
    text = unicodedata.normalize("NFKC", raw)
    text = text.replace("－", "-").replace("—", "-").replace("–", "-").replace("﹢", "+")
    text = _SPACES.sub("", text)
    if not text:
        raise BadValue("empty value")

    token = _qualitative(text)
    if token is not None and ind is not None and not ind.is_ordinal and _NUMBER.match(text):
        token = None  # "+1" for a quantity is the number 1, not the strip grade "1+"
    if token is not None:
        if ind is None:
            return ParsedValue(None, "", token)
        if not ind.ordinal_scale:
            raise BadValue(
                f"qualitative value {_show(raw)} for {ind.code} ({ind.abbreviation}), "
                "which takes a number"
            )
        return _on_scale(token, ind, raw)

    comparator = ""
    for prefix, canonical in _COMPARATORS:
        if text.startswith(prefix):
            comparator = canonical
            text = text[len(prefix) :]
            break
    stripped = _FLAG_SUFFIX.sub("", text)
    if stripped != text and stripped[-1:].isdigit():
        text = stripped
    number = _number(text, raw)
    if ind is not None and ind.is_ordinal:
        raise BadValue(
            f"number {_show(raw)} for {ind.code} ({ind.abbreviation}), which takes one of: "
            + " ".join(ind.ordinal_scale)
        )
    return ParsedValue(number, comparator, "")
