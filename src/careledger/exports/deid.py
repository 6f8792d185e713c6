"""De-identification of a client frame (去标识化): pure polars, no Django, no database.

Why a module of its own: what leaves the institution for research or statistics must be the same
transformation whoever calls it (the research export, a de-identified bulk export, the
benchmark), it must be testable without a database, and it must run vectorised over 100,000
clients. The steps, in order (see docs/decisions/0021-de-identified-research-export.md):

1. **Pseudonyms.** The client id becomes `HMAC-SHA256(pseudonym key, client id)`, truncated
   to 80 bits and hex-encoded. The key is the project's key (stable within a project, so a
   cohort can be followed across exports of the same project) or a random key per export
   (unlinkable across exports). Without the key a pseudonym cannot be reversed or re-derived.
2. **Direct identifiers removed.** Only the columns named as quasi-identifiers or data survive;
   the client id, birth date and region code are dropped after generalisation.
3. **Quasi-identifiers generalised.** Age at the reference date in bands (top-coded at 90+),
   sex kept, region reduced to a prefix of the GB/T 2260 area code carried by the resident ID
   number (city = 4 digits, province = 2, or suppressed as "*").
4. **Date shifting.** Every date column moves by one offset per client, drawn from
   `HMAC(date-shift key, client id)` in [-max, +max] days (never 0): intervals between one
   client's dates are kept, calendar dates are not, and the offset is stable within a project.
5. **k-anonymity with suppression.** Generalisation levels are tried from the most detailed;
   the first level where the rows in equivalence classes smaller than k are at most the allowed
   suppression share is used, and those rows are suppressed (removed). The k achieved (the
   smallest class left) is reported with the level and the number suppressed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

PSEUDONYM_HEX = 20  # 80 bits: collisions negligible at millions of clients
AGE_TOP = 90

# (age band width in years, region prefix digits): most detailed first.
LEVELS: tuple[tuple[int, int], ...] = ((5, 4), (5, 2), (10, 2), (10, 0), (20, 0))

QUASI_IDENTIFIERS = ("sex", "age_band", "region")


class DeidError(ValueError):
    """The frame or the configuration cannot be de-identified as asked."""


@dataclass(frozen=True)
class DeidConfig:
    reference_date: dt.date
    k: int = 5
    max_suppression: float = 0.05  # share of rows that may be suppressed at the chosen level
    shift_days: int = 180
    levels: tuple[tuple[int, int], ...] = LEVELS

    def __post_init__(self) -> None:
        if self.k < 2:
            raise DeidError("k must be at least 2")
        if not 0 <= self.max_suppression < 1:
            raise DeidError("the suppression share must be in [0, 1)")
        if self.shift_days < 1:
            raise DeidError("date shifting needs at least one day of range")
        if not self.levels:
            raise DeidError("at least one generalisation level is needed")


@dataclass(frozen=True)
class DeidReport:
    """What the de-identification did, for the request page, the watermark and the ledger."""

    rows_in: int
    rows_out: int
    suppressed: int
    k_requested: int
    k_achieved: int  # smallest equivalence class left (0 when nothing is left)
    age_band_years: int
    region_digits: int
    classes: int
    levels_tried: list[dict[str, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "suppressed": self.suppressed,
            "k_requested": self.k_requested,
            "k_achieved": self.k_achieved,
            "age_band_years": self.age_band_years,
            "region_digits": self.region_digits,
            "classes": self.classes,
            "levels_tried": self.levels_tried,
        }


def subkey(key: bytes, label: str) -> bytes:
    """Domain-separated keys from one project key (pseudonyms and date shifts never share)."""
    return hmac.new(key, b"careledger-deid\x00" + label.encode(), hashlib.sha256).digest()


def pseudonyms(client_ids: Sequence[str], key: bytes) -> list[str]:
    k = subkey(key, "pseudonym")
    return [
        hmac.new(k, cid.encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX] for cid in client_ids
    ]


def date_offsets(client_ids: Sequence[str], key: bytes, max_days: int) -> list[int]:
    """A per-client shift in [-max_days, -1] ∪ [1, max_days], stable for a given key."""
    k = subkey(key, "date-shift")
    span = 2 * max_days
    out = []
    for cid in client_ids:
        n = int.from_bytes(hmac.new(k, cid.encode(), hashlib.sha256).digest()[:8], "big") % span
        out.append(n - max_days if n < max_days else n - max_days + 1)
    return out


def age_years(birth: pl.Expr, reference: dt.date) -> pl.Expr:
    """Completed years at the reference date (birthday not yet reached counts one less)."""
    before_birthday = (birth.dt.month() > reference.month) | (
        (birth.dt.month() == reference.month) & (birth.dt.day() > reference.day)
    )
    return (pl.lit(reference.year) - birth.dt.year() - before_birthday.cast(pl.Int32)).cast(
        pl.Int32
    )


def age_band(age: pl.Expr, width: int) -> pl.Expr:
    """ "40-44" for width 5; "90+" from AGE_TOP on; negative ages (bad data) become "*"."""
    low = (age // width) * width
    high = low + width - 1
    banded = low.cast(pl.Utf8) + pl.lit("-") + high.cast(pl.Utf8)
    return (
        pl.when(age.is_null() | (age < 0))
        .then(pl.lit("*"))
        .when(age >= AGE_TOP)
        .then(pl.lit(f"{AGE_TOP}+"))
        .otherwise(banded)
    )


def region_prefix(code: pl.Expr, digits: int) -> pl.Expr:
    """The first `digits` digits of a 6-digit area code; "*" when suppressed or unknown."""
    if digits <= 0:  # tied to the column, so it has the frame's length in any context
        return pl.when(code.is_null()).then(pl.lit("*")).otherwise(pl.lit("*"))
    valid = code.is_not_null() & code.str.contains(r"^[1-9]\d{5}$")
    return pl.when(valid).then(code.str.slice(0, digits)).otherwise(pl.lit("*"))


def _generalise(frame: pl.DataFrame, config: DeidConfig, width: int, digits: int) -> pl.DataFrame:
    return frame.with_columns(
        age_band(age_years(pl.col("birth_date"), config.reference_date), width).alias("age_band"),
        region_prefix(pl.col("region_code"), digits).alias("region"),
    )


def _class_sizes(frame: pl.DataFrame) -> pl.Series:
    return frame.select(pl.len().over(list(QUASI_IDENTIFIERS)).alias("n"))["n"]


def anonymise(
    frame: pl.DataFrame,
    *,
    key: bytes,
    config: DeidConfig,
    date_columns: Sequence[str] = (),
    keep: Sequence[str] = (),
) -> tuple[pl.DataFrame, DeidReport]:
    """De-identify `frame` (columns client_id, sex, birth_date, region_code, and the data).

    `date_columns` are shifted per client; `keep` are the data columns to carry (values,
    flags, tag lists). Every other column is dropped. Returns the frame (pseudonym, sex,
    age_band, region, then the kept and shifted columns) and the report.
    """
    required = {"client_id", "sex", "birth_date", "region_code"}
    missing = required - set(frame.columns)
    if missing:
        raise DeidError(f"missing columns: {', '.join(sorted(missing))}")
    unknown = (set(date_columns) | set(keep)) - set(frame.columns)
    if unknown:
        raise DeidError(f"unknown columns: {', '.join(sorted(unknown))}")
    if set(date_columns) & set(keep):
        raise DeidError("a column is either a date to shift or a value to keep")
    if "region_code" in keep or "birth_date" in keep or "client_id" in keep:
        raise DeidError("direct identifiers cannot be kept")

    frame = frame.with_columns(
        pl.col("client_id").cast(pl.Utf8),
        pl.col("sex").cast(pl.Utf8),
        pl.col("birth_date").cast(pl.Date),
        pl.col("region_code").cast(pl.Utf8),
    )
    n = frame.height
    ids = frame["client_id"].to_list()
    work = frame.with_columns(
        pl.Series("pseudonym", pseudonyms(ids, key), dtype=pl.Utf8),
        pl.Series("_shift", date_offsets(ids, key, config.shift_days), dtype=pl.Int32),
    )
    chosen: pl.DataFrame | None = None
    tried: list[dict[str, int]] = []
    level = config.levels[-1]
    for width, digits in config.levels:
        candidate = _generalise(work, config, width, digits)
        small = int((_class_sizes(candidate) < config.k).sum()) if n else 0
        tried.append({"age_band_years": width, "region_digits": digits, "below_k": small})
        if n == 0 or small <= config.max_suppression * n:
            chosen, level = candidate, (width, digits)
            break
    if chosen is None:  # even the coarsest level needs more suppression than allowed: use it
        chosen = _generalise(work, config, *config.levels[-1])
    sizes = _class_sizes(chosen)
    kept = chosen.filter(sizes >= config.k)
    shifted = [
        (pl.col(c).cast(pl.Date) + pl.duration(days=pl.col("_shift"))).alias(c)
        for c in date_columns
    ]
    out = kept.with_columns(shifted).select(["pseudonym", *QUASI_IDENTIFIERS, *keep, *date_columns])
    if kept.height:
        classes = kept.group_by(list(QUASI_IDENTIFIERS)).len()
        k_achieved, n_classes = int(classes["len"].min()), classes.height  # type: ignore[arg-type]
    else:
        k_achieved, n_classes = 0, 0
    report = DeidReport(
        rows_in=n,
        rows_out=kept.height,
        suppressed=n - kept.height,
        k_requested=config.k,
        k_achieved=k_achieved,
        age_band_years=level[0],
        region_digits=level[1],
        classes=n_classes,
        levels_tried=tried,
    )
    return out.sort("pseudonym"), report


def smallest_class(frame: pl.DataFrame, columns: Sequence[str] = QUASI_IDENTIFIERS) -> int:
    """The k a released frame actually has (for tests and a second, independent check)."""
    if frame.height == 0:
        return 0
    return int(frame.group_by(list(columns)).len()["len"].min())  # type: ignore[arg-type]
