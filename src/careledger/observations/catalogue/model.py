"""The catalogue's value types: an indicator, its reference ranges and its unit conversions.

Pure Python (no Django) so parsers, the trend engine, the demo-data generator and the tests can
use the catalogue without a database or settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

QUANTITY = "quantity"
ORDINAL = "ordinal"


@dataclass(frozen=True)
class ReferenceRange:
    """One reference interval, for one sex ("M", "F" or "" = any) and age band (years, inclusive).

    `low`/`high` are inclusive bounds (a value equal to `high` is normal) unless
    `high_exclusive` is set, for ranges a guideline writes as "< 5.2" (the value 5.2 itself is
    already borderline there). `text` is how the range is shown, e.g. "3.9–6.1" or "阴性".
    """

    sex: str
    age_min: int | None
    age_max: int | None
    low: Decimal | None
    high: Decimal | None
    text: str
    high_exclusive: bool = False


@dataclass(frozen=True)
class Conversion:
    """canonical = value × factor + offset, for one (normalised) unit spelling.

    The factor is kept as a fraction (numerator / denominator) so that "divide by the molar mass
    180.16/10" stays exact instead of going through a rounded reciprocal.
    """

    unit: str  # normalised spelling (see units.normalise_unit)
    numerator: Decimal
    denominator: Decimal = Decimal(1)
    offset: Decimal = Decimal(0)

    def apply(self, value: Decimal) -> Decimal:
        return value * self.numerator / self.denominator + self.offset

    def invert(self, value: Decimal) -> Decimal:
        return (value - self.offset) * self.denominator / self.numerator

    @property
    def is_identity(self) -> bool:
        return self.numerator == self.denominator and self.offset == 0


@dataclass(frozen=True)
class Indicator:
    """One catalogue entry. `code` is its LOINC code; other LOINC codes that mean the same result
    (mass vs molar, fasting vs unqualified, direct vs calculated) are listed in `aliases` and
    resolved by `get`/`find`.

    `cv_analytical`/`cv_within` are percentages (for the reference change value);
    `plausible_low`/`plausible_high` bound what a living person can have, in the canonical unit.
    Critical limits are strict (a value beyond them is critical) unless `critical_inclusive`
    (for limits a guideline writes as "≥ 180").
    """

    code: str
    name_zh: str
    name_en: str
    abbreviation: str
    panel: str
    kind: str  # "quantity" or "ordinal"
    unit: str  # canonical UCUM unit ("" for ordinal scales, "1" for unitless ratios)
    unit_display: str
    decimals: int
    ranges: tuple[ReferenceRange, ...]
    critical_low: Decimal | None
    critical_high: Decimal | None
    cv_analytical: float | None
    cv_within: float | None
    plausible_low: Decimal | None
    plausible_high: Decimal | None
    ordinal_scale: tuple[str, ...]  # ordinal only; index 0 = the normal rank
    aliases: tuple[str, ...]
    source: str
    conversions: tuple[Conversion, ...] = field(default=(), repr=False)
    critical_inclusive: bool = False
    # Qualitative tokens read as another rank of this scale, e.g. urobilinogen "阴性"/"±" = "正常".
    scale_equivalents: tuple[tuple[str, str], ...] = ()
    panel_zh: str = ""
    notes: str = ""

    @property
    def is_ordinal(self) -> bool:
        return self.kind == ORDINAL

    @property
    def loinc_aliases(self) -> tuple[str, ...]:
        """Other LOINC codes mapped onto this entry."""
        from careledger.observations.catalogue.codes import looks_like_loinc

        return tuple(a for a in self.aliases if looks_like_loinc(a))
