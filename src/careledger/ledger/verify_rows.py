"""Checking live rows of sealed tables against the seals the ledger committed.

The replay gives, for every row any entry ever sealed, the latest (entry, digest) — the truth,
because those entries are proven by the tree. Two comparisons follow:

* the `RowSeal` index against that truth (the index is only a fast path; an index edited to
  match a tampered row must not pass), and
* every row of every sealed table against it: a row whose digest differs was changed behind the
  application's back; a sealed row that is gone was deleted; a row with no seal, or one whose
  last seal records its deletion, was inserted. A table is sealed once any entry seals a row of
  it; from then on every row of it must have come through a service.

Rows written while `verify` runs would look changed (the row read is newer than the replay), so
a mismatch is re-checked after the replay catches up with the log before it is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.apps import apps
from django.db import models

from careledger.ledger.models import RowSeal
from careledger.ledger.replay import Replay
from careledger.ledger.rows import row_digest

CHUNK = 2000


def _model_for(table: str) -> type[models.Model] | None:
    for model in apps.get_models():
        if model._meta.db_table == table:
            return model
    return None


def _index_problems(replay: Replay) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    seen: set[tuple[str, str]] = set()
    rows = RowSeal.objects.order_by("table", "row_id").values_list(
        "table", "row_id", "digest", "seq"
    )
    for table, row_id, digest, seq in rows.iterator(chunk_size=CHUNK):
        seen.add((table, row_id))
        truth = replay.seals.get(table, {}).get(row_id)
        where = f"row seal of table {table} row {row_id}"
        if truth is None:
            found[table, row_id] = f"{where}: no ledger entry sealed this row (index forged)"
        elif truth != (seq, digest or None):
            found[table, row_id] = (
                f"{where}: the index says entry {seq}, the ledger says entry {truth[0]} "
                "(index altered)"
            )
    for table, rows_of in replay.seals.items():
        for row_id, (seq, _digest) in rows_of.items():
            if (table, row_id) not in seen:
                found[table, row_id] = (
                    f"row seal of table {table} row {row_id}: missing from the index "
                    f"(sealed by entry {seq})"
                )
    return found


def _row_problem(table: str, row_id: str, digest: str | None, replay: Replay) -> str | None:
    truth = replay.seals.get(table, {}).get(row_id)
    where = f"table {table} row {row_id}"
    if truth is None:
        if digest is None:
            return None
        return f"{where}: has no seal (inserted behind the application's back)"
    seq, sealed = truth
    if digest is None:
        return (
            None
            if sealed is None
            else f"{where}: deleted behind the application's back (sealed by entry {seq})"
        )
    if sealed is None:
        return f"{where}: present although entry {seq} recorded its deletion (re-inserted)"
    if sealed != digest:
        return f"{where}: changed behind the application's back (last sealed by entry {seq})"
    return None


def _chunks(model: type[models.Model]) -> Iterator[list[models.Model]]:
    """All rows of a table, CHUNK at a time (keyset on the primary key), with their sealed
    children loaded per chunk where the model covers children in its digest."""
    prefetch = getattr(model, "prefetch_sealed_children", None)
    rows = model._base_manager.order_by("pk")
    last = None
    while True:
        chunk = list((rows.filter(pk__gt=last) if last is not None else rows)[:CHUNK])
        if not chunk:
            return
        if prefetch is not None:
            prefetch(chunk)
        yield chunk
        last = chunk[-1].pk


def _live_problems(replay: Replay) -> tuple[dict[tuple[str, str], str], int]:
    found: dict[tuple[str, str], str] = {}
    checked = 0
    for table in sorted(replay.seals):
        model = _model_for(table)
        if model is None:
            found[table, ""] = f"table {table}: sealed rows, but no such table is installed"
            continue
        live: set[str] = set()
        for chunk in _chunks(model):
            for instance in chunk:
                row_id = str(instance.pk)
                live.add(row_id)
                checked += 1
                problem = _row_problem(table, row_id, row_digest(instance), replay)
                if problem:
                    found[table, row_id] = problem
        for row_id in replay.seals[table].keys() - live:
            problem = _row_problem(table, row_id, None, replay)
            if problem:
                found[table, row_id] = problem
    return found, checked


def _recheck(found: dict[tuple[str, str], str], replay: Replay) -> list[str]:
    """Re-read each suspicious row after the replay caught up; keep what is still wrong."""
    still = []
    for (table, row_id), message in sorted(found.items()):
        model = _model_for(table)
        if model is None or not row_id:
            still.append(message)
            continue
        instance = model._base_manager.filter(pk=row_id).first()
        digest = row_digest(instance) if instance is not None else None
        problem = _row_problem(table, row_id, digest, replay)
        if problem is not None:
            still.append(problem)
    return still


def check_rows(replay: Replay, problems: list[str], catch_up: Callable[[], None]) -> int:
    """Append row and index problems to `problems`; returns the number of live rows checked."""
    index = _index_problems(replay)
    live, checked = _live_problems(replay)
    if index or live:
        catch_up()
        if index:
            index = _index_problems(replay)
        live_after = _recheck(live, replay)
    else:
        live_after = []
    problems.extend(sorted(index.values()))
    problems.extend(live_after)
    return checked
