"""Scores of an answer set: sums, weighted sums, percent transforms, bands, flags. Pure: no Django.

Each `ScoreRule` of the definition (see `definition.py` for the FHIR extension that carries it)
gives one `Score`:

* item score: a choice's option score (ordinalValue / itemWeight; a repeating choice adds its
  selected options), a boolean's 1/0, an integer's or decimal's own value; a reversed item
  scores lowest + highest − value (so 1..5 becomes 5..1);
* `sum` adds the item scores, `weighted` adds weight × item score (the item's weight extension,
  1 when absent);
* `percent` turns the raw score into (raw − lowest possible) / (highest − lowest) × 100, which for
  n items scored 1–5 is the TCM conversion score (raw − n) / (4n) × 100;
* the band is the one with the largest minimum not above the score (minimums inclusive).

A score is computed only when every one of its enabled items is answered (a disabled item, such
as the question for the other sex, does not count and does not shrink anything but the item
count); otherwise its value is None and `missing` lists the unanswered items. After the bands, a
named judgement (`definition.judgement`) may re-read all scores together (TCM: `tcm.judge`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from careledger.questionnaires import enable
from careledger.questionnaires.definition import Band, Definition, Item, ScoreRule

HUNDRED = Decimal(100)
PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Score:
    code: str
    display: str
    value: Decimal | None  # exact; `rounded` for storage and display
    band: str = ""
    band_display: str = ""
    flag: bool = False  # an alert score (e.g. PHQ-9 item 9) whose band is not "negative"
    raw: Decimal | None = None
    missing: tuple[str, ...] = ()

    @property
    def rounded(self) -> Decimal | None:
        return None if self.value is None else self.value.quantize(PLACES, ROUND_HALF_UP)

    @property
    def complete(self) -> bool:
        return self.value is not None


class NotScorable(ValueError):
    pass


def item_score(item: Item, values: Sequence[Any]) -> Decimal:
    """What one answered item contributes before weight and reversal."""
    total = Decimal(0)
    for value in values:
        if item.type in ("choice", "open-choice"):
            option = item.option(value) if isinstance(value, str) else None
            if option is None or option.score is None:
                raise NotScorable(item.link_id)
            total += option.score
        elif item.type == "boolean":
            total += 1 if value else 0
        elif item.type in ("integer", "decimal"):
            total += Decimal(str(value))
        else:
            raise NotScorable(item.link_id)
    return total


def default_items(defn: Definition) -> tuple[str, ...]:
    """Every choice question with scored options (a rule naming no items scores these)."""
    return tuple(
        i.link_id
        for i in defn.questions()
        if i.type in ("choice", "open-choice") and any(o.score is not None for o in i.options)
    )


def band_for(bands: Sequence[Band], value: Decimal) -> Band | None:
    found = None
    for band in bands:
        if band.min <= value:
            found = band
    return found


def _score(rule: ScoreRule, defn: Definition, answers: Mapping[str, Sequence[Any]], on: set[str]):
    link_ids = [i for i in (rule.items or default_items(defn)) if i in on]
    missing = tuple(i for i in link_ids if not answers.get(i))
    if missing or not link_ids:
        return Score(rule.code, rule.display, None, flag=False, missing=missing)
    raw = lowest = highest = Decimal(0)
    for link_id in link_ids:
        item = defn.item(link_id)
        assert item is not None
        weight = item.weight if rule.method == "weighted" and item.weight is not None else 1
        value = item_score(item, answers[link_id])
        span = item.score_range
        if link_id in rule.reverse:
            assert span is not None
            value = span[0] + span[1] - value
        raw += weight * value
        if span is not None:
            lowest += weight * min(span)
            highest += weight * max(span)
    value = raw
    if rule.transform == "percent":
        if highest == lowest:
            raise NotScorable(rule.code)
        value = (raw - lowest) / (highest - lowest) * HUNDRED
    band = band_for(rule.bands, value)
    return Score(
        code=rule.code,
        display=rule.display,
        value=value,
        band=band.code if band else "",
        band_display=band.display if band else "",
        flag=rule.flag and band is not None and band.code != "negative",
        raw=raw,
    )


def score(defn: Definition, answers: Mapping[str, Sequence[Any]]) -> list[Score]:
    """Every score of the definition over these (typed) answers, in the definition's order."""
    on = enable.enabled_items(defn, answers)
    live = {k: v for k, v in answers.items() if k in on}
    results = [_score(rule, defn, live, on) for rule in defn.scores]
    if defn.judgement == "zyyxh-t157-2009":
        from careledger.questionnaires import tcm

        results = tcm.apply(results)
    return results
