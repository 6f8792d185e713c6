"""Anomaly rules over audit counts (pure: no Django, tested without a database).

The scan (`careledger.audit.scan`) aggregates one hour of ledger events per staff user and hands
the counts here; each rule returns findings, which become alerts. The rules are deliberately
simple and explainable to a security officer, each with a floor so that a quiet user's first busy
morning is not an incident:

* many_clients — a user opened far more distinct clients in the hour than their own norm:
  observed >= max(floor, factor x the 95th percentile of their active hours in the baseline
  period). Reading a page of a list counts each client on it, as the ledger does.
* night_bulk — a user read many distinct clients in an hour that falls in the night
  (22:00–06:00 Asia/Shanghai by default), when a centre is closed.
* repeated_denials — a user was refused many times in the hour (probing for records they may not
  see, or a script gone wrong).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    many_clients_floor: int = 50
    many_clients_factor: float = 3.0
    night_bulk: int = 20
    night_start_hour: int = 22
    night_end_hour: int = 6
    repeated_denials: int = 5


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    actor_id: str
    observed: int
    expected: int


def percentile(values: Sequence[int], q: float) -> float:
    """Nearest-rank percentile (0 for no values): the norm a user is compared with."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return float(ordered[rank - 1])


def is_night(local_hour: int, t: Thresholds) -> bool:
    if t.night_start_hour > t.night_end_hour:
        return local_hour >= t.night_start_hour or local_hour < t.night_end_hour
    return t.night_start_hour <= local_hour < t.night_end_hour


def many_clients(
    distinct_clients: Mapping[str, int],
    baseline: Mapping[str, Sequence[int]],
    t: Thresholds = Thresholds(),
) -> list[Finding]:
    found = []
    for actor, observed in distinct_clients.items():
        norm = percentile(baseline.get(actor, ()), 0.95)
        limit = max(t.many_clients_floor, math.ceil(t.many_clients_factor * norm))
        if observed >= limit:
            found.append(Finding("many_clients", "medium", actor, observed, int(norm)))
    return found


def night_bulk(
    distinct_clients: Mapping[str, int], local_hour: int, t: Thresholds = Thresholds()
) -> list[Finding]:
    if not is_night(local_hour, t):
        return []
    return [
        Finding("night_bulk", "high", actor, n, t.night_bulk)
        for actor, n in distinct_clients.items()
        if n >= t.night_bulk
    ]


def repeated_denials(denials: Mapping[str, int], t: Thresholds = Thresholds()) -> list[Finding]:
    return [
        Finding("repeated_denials", "medium", actor, n, t.repeated_denials)
        for actor, n in denials.items()
        if n >= t.repeated_denials
    ]


def evaluate(
    *,
    distinct_clients: Mapping[str, int],
    baseline: Mapping[str, Sequence[int]],
    denials: Mapping[str, int],
    local_hour: int,
    t: Thresholds = Thresholds(),
) -> list[Finding]:
    """Every rule over one hour's counts."""
    findings: Iterable[Finding] = [
        *many_clients(distinct_clients, baseline, t),
        *night_bulk(distinct_clients, local_hour, t),
        *repeated_denials(denials, t),
    ]
    return sorted(findings, key=lambda f: (f.rule, f.actor_id))
