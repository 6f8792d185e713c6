"""Which clients the nightly retention run acts on, and how. Pure: no Django.

A client is due when their last activity (the latest event about them by a person — staff or
the client — in the ledger, or their enrolment if there is none) is older than the
institution's period (default two years). Legal holds stop everything. What happens to a due
client depends on the institution's policy:

* `archive`: active or inactive clients become archived (stored and protected only; reading
  needs a stated reason); archived ones stay archived.
* `anonymise`: active, inactive and archived clients are anonymised (identifiers destroyed by
  crypto-shredding, coded data kept for statistics).

Anonymised and erased clients are never touched again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

ARCHIVE = "archive"
ANONYMISE = "anonymise"
ACTIONS = (ARCHIVE, ANONYMISE)
DEFAULT_DAYS = 730
MIN_DAYS = 30  # a shorter period is a configuration mistake, not a policy
LIVE = frozenset({"active", "inactive"})


@dataclass(frozen=True)
class Candidate:
    client_id: uuid.UUID
    status: str
    last_activity: dt.datetime
    on_hold: bool = False


@dataclass(frozen=True)
class Plan:
    archive: tuple[uuid.UUID, ...]
    anonymise: tuple[uuid.UUID, ...]
    held: tuple[uuid.UUID, ...]  # due, but under a legal hold


def cutoff(now: dt.datetime, days: int) -> dt.datetime:
    return now - dt.timedelta(days=days)


def plan(candidates: list[Candidate], *, now: dt.datetime, days: int, action: str) -> Plan:
    if action not in ACTIONS:
        raise ValueError(f"unknown retention action {action!r}")
    if days < MIN_DAYS:
        raise ValueError(f"a retention period under {MIN_DAYS} days is refused")
    limit = cutoff(now, days)
    archive, anonymise, held = [], [], []
    for c in candidates:
        if c.last_activity >= limit:
            continue
        acts = (action == ARCHIVE and c.status in LIVE) or (
            action == ANONYMISE and (c.status in LIVE or c.status == "archived")
        )
        if not acts:
            continue
        if c.on_hold:
            held.append(c.client_id)
        elif action == ARCHIVE:
            archive.append(c.client_id)
        else:
            anonymise.append(c.client_id)
    return Plan(tuple(archive), tuple(anonymise), tuple(held))
