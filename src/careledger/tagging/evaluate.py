"""Evaluating compiled rules over a facts frame, and what changes (pure, no Django).

All rules at once: one `select` computes every rule's Boolean column for every client (polars
runs the expressions vectorised and in parallel), then the result is unpivoted to the long
(client, tag) pairs that fire and compared with the tags clients carry now by anti-joins. No
Python loop per rule per client.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from careledger.tagging.rules import CompiledRule

KEYS = ["client_id", "tag"]


@dataclass(frozen=True)
class Changes:
    gains: pl.DataFrame  # client_id, tag: pairs that fire now and are not carried
    losses: pl.DataFrame  # client_id, tag: pairs carried by a rule that no longer fire

    @property
    def empty(self) -> bool:
        return self.gains.is_empty() and self.losses.is_empty()


def fired(frame: pl.DataFrame, rules: Mapping[str, CompiledRule]) -> pl.DataFrame:
    """(client_id, tag) for every rule (keyed by tag) that fires for a client."""
    if not rules or frame.is_empty():
        return pl.DataFrame(schema={"client_id": pl.Utf8, "tag": pl.Utf8})
    wide = frame.select("client_id", *[rule.expr.alias(tag) for tag, rule in rules.items()])
    return (
        wide.unpivot(index="client_id", variable_name="tag", value_name="fires")
        .filter(pl.col("fires"))
        .select("client_id", "tag")
    )


def diff(now: pl.DataFrame, carried: pl.DataFrame) -> Changes:
    """Gains and losses between the pairs that fire `now` and those `carried` (both long
    frames of client_id, tag, limited to the same clients)."""
    carried = carried.select(KEYS).cast({"client_id": pl.Utf8, "tag": pl.Utf8})
    now = now.select(KEYS)
    return Changes(
        gains=now.join(carried, on=KEYS, how="anti"),
        losses=carried.join(now, on=KEYS, how="anti"),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 4)
    return value


def facts_of(frame: pl.DataFrame, client_ids: list[str], columns: list[str]) -> dict[str, dict]:
    """{client_id: {fact column: value}} of the given clients (what a history entry keeps)."""
    if not client_ids:
        return {}
    present = [c for c in columns if c in frame.columns]
    rows = frame.filter(pl.col("client_id").is_in(client_ids)).select("client_id", *present)
    return {row.pop("client_id"): {k: _plain(v) for k, v in row.items()} for row in rows.to_dicts()}


def counts_by(frame: pl.DataFrame, pairs: pl.DataFrame, bands: list[tuple[int, int | None]]):  # type: ignore[no-untyped-def]
    """{(sex, band label): count} of the clients in `pairs`, by sex and age band."""
    people = frame.select("client_id", "sex", "age").join(
        pairs.select("client_id").unique(), on="client_id", how="semi"
    )
    out: dict[tuple[str, str], int] = {}
    for sex, age in people.select("sex", "age").iter_rows():
        label = band_of(age, bands)
        out[sex, label] = out.get((sex, label), 0) + 1
    return out


def band_of(age: float | None, bands: list[tuple[int, int | None]]) -> str:
    if age is None:
        return "?"
    for low, high in bands:
        if age >= low and (high is None or age <= high):
            return f"{low}+" if high is None else f"{low}–{high}"
    return "?"
